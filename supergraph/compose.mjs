// Composes subgraph SDLs into a Federation v2 supergraph with @theguild/federation-composition
// (MIT), pinned in package.json. Called by `promptsales compose`; not meant to be run by hand.
//
// stdin:  {"subgraphs": [{"name": "ads", "url": "http://…/graphql", "sdl": "…"}, …]}
// stdout: {"supergraph": "…"} on success, or {"errors": [{"message": "…", "subgraph": "…",
//         "coordinate": "Type.field"}]} with exit code 1.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

function fail(errors) {
  process.stdout.write(JSON.stringify({ errors }));
  process.exit(1);
}

const input = JSON.parse(readFileSync(0, "utf8"));
const services = [];
for (const sg of input.subgraphs) {
  try {
    services.push({ name: sg.name, url: sg.url, typeDefs: parse(sg.sdl) });
  } catch (e) {
    fail([{ message: `SDL does not parse: ${e.message}`, subgraph: sg.name }]);
  }
}

const result = composeServices(services);
if (compositionHasErrors(result)) {
  fail(
    result.errors.map((e) => {
      // The composer names subgraphs and coordinates in its messages and, for some rules, in
      // extensions; pass both on so the operator sees subgraph, type and field.
      const ext = e.extensions ?? {};
      return {
        message: e.message,
        code: ext.code ?? null,
        subgraph: ext.subgraph ?? ext.subgraphName ?? null,
        coordinate: ext.coordinate ?? ext.schemaCoordinate ?? null,
      };
    }),
  );
}
process.stdout.write(JSON.stringify({ supergraph: result.supergraphSdl }));
