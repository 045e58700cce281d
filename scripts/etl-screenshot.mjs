// Drives Debian's headless chromium over the DevTools protocol (Node's WebSocket): sets n8n's
// session cookie, opens the workflow in the editor, waits until its canvas has drawn every node,
// lets it settle, and writes a PNG. Used by scripts/etl-screenshot.sh; arguments: editor base URL,
// workflow id, cookie value, expected node count, output path.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, workflowId, cookie, nodeCount, out] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'ps-etl-chromium-'));
const browser = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
  '--remote-debugging-port=0', `--user-data-dir=${profile}`, '--window-size=1920,1000', 'about:blank'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fail = (message) => { console.error(message); browser.kill(); rmSync(profile, { recursive: true, force: true }); process.exit(1); };
setTimeout(() => fail('gave up after 180 s'), 180_000).unref();

const endpoint = await new Promise((resolve) => {
  let err = '';
  browser.stderr.on('data', (d) => {
    err += d;
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
    if (m) resolve(m[1]);
  });
});
const port = new URL(endpoint).port;
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const ws = new WebSocket(targets.find((t) => t.type === 'page').webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener('open', r));
let next = 0;
const pending = new Map();
ws.addEventListener('message', (e) => {
  const msg = JSON.parse(e.data);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
});
const send = (method, params = {}) => new Promise((resolve, reject) => {
  const id = ++next;
  pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
  ws.send(JSON.stringify({ id, method, params }));
});

await send('Network.enable');
await send('Network.setCookie', { name: 'n8n-auth', value: cookie, url: base });
await send('Page.navigate', { url: `${base}/workflow/${workflowId}` });
const count = `document.querySelectorAll('.vue-flow__node').length`;
for (;;) {
  const { result } = await send('Runtime.evaluate', { expression: count });
  if (result.value >= Number(nodeCount)) break;
  await sleep(500);
}
await sleep(3000); // the canvas fits the view and finishes drawing the edges
const { data } = await send('Page.captureScreenshot', { format: 'png' });
writeFileSync(out, Buffer.from(data, 'base64'));
const exited = new Promise((r) => browser.on('exit', r));
browser.kill();
await exited;
rmSync(profile, { recursive: true, force: true });
process.exit(0);
