"""The guarantees of issue #19, asserted on the rendered YAML of every overlay."""

import base64
import json
import re

import pytest
import yaml

from conftest import K8S, REPO

NS = "promptsales"
# Every process and database, each its own workload (a new process must be added here on purpose).
EXPECTED = {
    ("Deployment", "gateway"), ("Deployment", "content"), ("Deployment", "ads"), ("Deployment", "crm"),
    ("Deployment", "sales"), ("Deployment", "mcp-content"), ("Deployment", "mcp-sales"),
    ("Deployment", "worker"),
    ("Deployment", "keycloak"), ("Deployment", "n8n"), ("Deployment", "otel-collector"),
    ("StatefulSet", "redis"), ("StatefulSet", "redis-sentinel"), ("StatefulSet", "mssql-ads"),
    ("StatefulSet", "mssql-crm"), ("StatefulSet", "loki"), ("DaemonSet", "fluent-bit"),
    ("Cluster", "postgres"), ("MongoDBCommunity", "mongodb"),
    ("CronJob", "mongodb-backup"), ("CronJob", "mssql-ads-backup"), ("CronJob", "mssql-crm-backup"),
    ("Job", "migrate"), ("Job", "mssql-ads-ag-setup"), ("Job", "mssql-crm-ag-setup"),
}
LOCAL_ONLY = {("Deployment", "auth")}
# Our Rust binaries, by the Deployments that run them, and the crate holding each one's sources.
RUST = {"gateway": "gateway", "content": "subgraphs/content", "ads": "subgraphs/ads", "crm": "subgraphs/crm",
        "sales": "subgraphs/sales", "mcp-content": "mcp/content", "mcp-sales": "mcp/sales", "worker": "worker",
        "auth": "cli"}
# The ETL is one replica on purpose (n8n's scheduler fires each trigger from its one main
# process; see base/etl/n8n.yaml); everything else stateless runs at least two.
SINGLETONS = {"n8n"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


def of(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def pod_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def pod_labels(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return obj["spec"]["template"]["metadata"]["labels"]


def workloads(objects):
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def containers(obj):
    spec = pod_spec(obj)
    return spec.get("initContainers", []) + spec["containers"]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        (labels.get(e["key"]) in e["values"]) == (e["operator"] == "In") for e in selector.get("matchExpressions", [])
    )


def test_each_database_and_process_should_have_exactly_one_workload(overlay):
    name, objects = overlay
    found = [(o["kind"], o["metadata"]["name"]) for o in objects if o["kind"] in WORKLOAD_KINDS | {"Cluster", "MongoDBCommunity"}]
    assert len(found) == len(set(found)), "a workload is defined twice"
    expected = EXPECTED | (LOCAL_ONLY if name == "local" else set())
    assert set(found) == expected


def test_each_pod_should_run_one_process_of_ours(overlay):
    # Sidecars are exporters only (redis_exporter), never a second PromptSales process.
    _, objects = overlay
    for w in workloads(objects):
        ours = [c for c in pod_spec(w)["containers"] if "promptsales/services" in c["image"]]
        assert len(ours) <= 1, w["metadata"]["name"]


def test_stateless_services_should_be_replicated_and_probed(overlay):
    _, objects = overlay
    for d in of(objects, "Deployment"):
        name = d["metadata"]["name"]
        minimum = 3 if name == "gateway" else 1 if name in SINGLETONS else 2
        assert d["spec"]["replicas"] >= minimum, name
        for c in d["spec"]["template"]["spec"]["containers"]:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert probe in c, f"{name}: no {probe}"
        if name in RUST:
            c = d["spec"]["template"]["spec"]["containers"][0]
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert c["startupProbe"]["httpGet"]["path"] == "/healthz", name
            # `promptsales auth` has no /readyz yet.
            assert c["readinessProbe"]["httpGet"]["path"] == ("/healthz" if name == "auth" else "/readyz"), name


def test_stateful_sets_should_keep_their_data_on_volumes_and_be_probed(overlay):
    _, objects = overlay
    for s in of(objects, "StatefulSet"):
        if s["metadata"]["name"] != "redis-sentinel":  # Sentinels rebuild their state from Redis
            assert s["spec"].get("volumeClaimTemplates"), s["metadata"]["name"]
        for c in s["spec"]["template"]["spec"]["containers"]:
            assert "readinessProbe" in c and "livenessProbe" in c, s["metadata"]["name"]


def test_every_container_should_have_requests_and_limits(overlay):
    _, objects = overlay
    for w in workloads(objects):
        for c in containers(w):
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(res.get(kind, {})), f"{w['metadata']['name']}/{c['name']}: {kind}"


def test_every_replicated_workload_should_have_a_disruption_budget(overlay):
    _, objects = overlay
    pdbs = of(objects, "PodDisruptionBudget")
    for w in of(objects, "Deployment") + of(objects, "StatefulSet"):
        labels = pod_labels(w)
        assert any(matches(p["spec"]["selector"], labels) for p in pdbs), w["metadata"]["name"]
    # The operators' pods: CloudNativePG makes its own budgets; MongoDB's is ours.
    assert any(p["spec"]["selector"]["matchLabels"] == {"app": "mongodb-svc"} for p in pdbs)


def test_stateless_services_should_autoscale_on_cpu_and_memory_within_bounds(overlay):
    _, objects = overlay
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of(objects, "HorizontalPodAutoscaler")}
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of(objects, "ScaledObject")}
    for d in of(objects, "Deployment"):
        name = d["metadata"]["name"]
        if name in SINGLETONS:
            assert name not in hpas and name not in scaled, f"{name} must stay one replica"
            continue
        if name in scaled:
            assert name not in hpas, f"{name}: an HPA beside KEDA's would fight it"
            so = scaled[name]["spec"]
            low, high = so["minReplicaCount"], so["maxReplicaCount"]
            resources = {t["type"] for t in so["triggers"]}
        else:
            assert name in hpas, f"{name}: no HorizontalPodAutoscaler"
            h = hpas[name]["spec"]
            low, high = h["minReplicas"], h["maxReplicas"]
            resources = {m["resource"]["name"] for m in h["metrics"] if m["type"] == "Resource"}
        assert {"cpu", "memory"} <= resources, name
        assert low == d["spec"]["replicas"] and low < high <= 20, name


def test_gateway_should_scale_on_requests_in_flight_from_a_metric_it_exports(overlay):
    _, objects = overlay
    so = next(s for s in of(objects, "ScaledObject") if s["metadata"]["name"] == "gateway")
    assert so["spec"]["minReplicaCount"] >= 3
    prom = [t for t in so["spec"]["triggers"] if t["type"] == "prometheus"]
    assert len(prom) == 1
    metric = re.search(r"(gateway_[a-z_]+?)(_sum|_count|_bucket)?\{", prom[0]["metadata"]["query"]).group(1)
    sources = "".join(p.read_text() for p in (REPO / "gateway" / "src").rglob("*.rs"))
    assert f'"{metric}"' in sources, f"the gateway exports no metric {metric}"


def test_worker_should_scale_on_the_queue_depth_it_exports(overlay):
    _, objects = overlay
    so = next(s for s in of(objects, "ScaledObject") if s["metadata"]["name"] == "worker")
    prom = [t for t in so["spec"]["triggers"] if t["type"] == "prometheus"]
    assert len(prom) == 1
    metric = re.search(r"(worker_[a-z_]+)\{", prom[0]["metadata"]["query"]).group(1)
    sources = "".join(p.read_text() for p in (REPO / "worker" / "src").rglob("*.rs"))
    assert f'"{metric}"' in sources, f"the worker exports no metric {metric}"


def test_pods_should_spread_across_nodes_and_zones(overlay):
    _, objects = overlay
    for w in of(objects, "Deployment") + of(objects, "StatefulSet"):
        name = w["metadata"]["name"]
        if name in SINGLETONS or w["spec"].get("replicas", 1) < 2:
            continue
        keys = {t["topologyKey"] for t in pod_spec(w).get("topologySpreadConstraints", [])}
        assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= keys, name


def test_containers_should_run_restricted(overlay):
    _, objects = overlay
    for w in workloads(objects):
        spec = pod_spec(w)
        name = w["metadata"]["name"]
        assert spec.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for c in containers(w):
            sc = c.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, f"{name}/{c['name']}"
            assert sc.get("readOnlyRootFilesystem") is True, f"{name}/{c['name']}"
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}/{c['name']}"
            assert not sc.get("privileged"), f"{name}/{c['name']}"
            # Fluent Bit reads the nodes' root-owned log files (its namespace allows it).
            if name != "fluent-bit":
                assert sc.get("runAsNonRoot") or spec["securityContext"].get("runAsNonRoot"), f"{name}/{c['name']}"


def test_service_accounts_should_not_mount_api_tokens(overlay):
    _, objects = overlay
    for sa in of(objects, "ServiceAccount"):
        expected = sa["metadata"]["name"] == "fluent-bit"  # reads pod labels from the API
        assert sa.get("automountServiceAccountToken") is expected, sa["metadata"]["name"]
    for w in workloads(objects):
        assert pod_spec(w).get("automountServiceAccountToken") is (w["metadata"]["name"] == "fluent-bit")


def test_stateless_services_should_drain_before_stopping(overlay):
    _, objects = overlay
    for d in of(objects, "Deployment"):
        if d["metadata"]["name"] in SINGLETONS:
            continue
        spec = d["spec"]["template"]["spec"]
        stop = spec["containers"][0].get("lifecycle", {}).get("preStop", {})
        assert "sleep" in stop, d["metadata"]["name"]
        assert spec.get("terminationGracePeriodSeconds", 30) > stop["sleep"]["seconds"] + 10


def test_no_image_should_float(overlay):
    _, objects = overlay
    for w in workloads(objects):
        for c in containers(w):
            image = c["image"]
            assert re.search(r":[\w.-]+$|@sha256:[0-9a-f]{64}$", image.split("/")[-1]), f"untagged image {image}"
            assert not image.endswith(":latest"), image
    for cluster in of(objects, "Cluster"):
        assert not cluster["spec"]["imageName"].endswith(":latest")


SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|KEKS|_KEY$|ENCRYPTION", re.I)


def test_no_secret_should_be_written_in_plain_values(overlay):
    name, objects = overlay
    for w in workloads(objects):
        for c in containers(w):
            for env in c.get("env", []):
                if SECRETISH.search(env["name"]) and "value" in env:
                    # Only file paths (PROMPTSALES_TLS_KEY=/etc/...) may be literal.
                    assert env["value"].startswith("/"), f"{w['metadata']['name']}: {env['name']} is a literal"
    for cm in of(objects, "ConfigMap"):
        for key, text in cm.get("data", {}).items():
            assert not re.search(r"://[^/\s:@]+:[^/\s@$]+@", text), f"credentials in ConfigMap {cm['metadata']['name']}/{key}"
    if name == "production":
        assert not of(objects, "Secret"), "production secrets come from External Secrets only"


def test_no_secret_should_be_committed():
    tracked = [p for p in K8S.rglob("*") if p.is_file() and "secrets" not in p.relative_to(K8S).parts]
    for path in tracked:
        if path.suffix in {".yaml", ".yml"}:
            for doc in yaml.safe_load_all(path.read_text()):
                assert not (doc and doc.get("kind") == "Secret"), f"{path} holds a Secret"
    realm = json.loads((K8S / "base/idp/realm-promptsales.json").read_text())
    for client in realm["clients"]:
        if "secret" in client:
            assert re.fullmatch(r"\$\{[A-Z_]+\}", client["secret"]), client["clientId"]
    ignored = (REPO / ".gitignore").read_text()
    assert "/k8s/overlays/*/secrets/" in ignored


def test_every_pod_should_be_behind_a_default_deny_network_policy(overlay):
    _, objects = overlay
    policies = [p for p in of(objects, "NetworkPolicy") if p["metadata"]["namespace"] == NS]
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    specific = [p for p in policies if p["spec"]["podSelector"]]
    for w in workloads(objects):
        if w["metadata"]["namespace"] != NS:
            continue
        labels = pod_labels(w)
        assert any(matches(p["spec"]["podSelector"], labels) for p in specific), w["metadata"]["name"]


def test_services_should_serve_tls_with_certificates_from_cert_manager(overlay):
    _, objects = overlay
    certs = {c["spec"]["secretName"] for c in of(objects, "Certificate")}
    for d in of(objects, "Deployment"):
        name = d["metadata"]["name"]
        spec = d["spec"]["template"]["spec"]
        for v in spec.get("volumes", []):
            if v.get("secret", {}).get("secretName", "").endswith("-tls"):
                assert v["secret"]["secretName"] in certs, f"{name}: no Certificate for {v['secret']['secretName']}"
        if name in RUST:
            env = {e["name"] for e in spec["containers"][0]["env"]}
            assert {"PROMPTSALES_TLS_CERT", "PROMPTSALES_TLS_KEY", "PROMPTSALES_TLS_CA"} <= env, name
            assert spec["containers"][0]["startupProbe"]["httpGet"]["scheme"] == "HTTPS", name


def test_redis_should_speak_tls_only_and_its_clients_should_trust_our_ca(overlay):
    _, objects = overlay
    scripts = next(c for c in of(objects, "ConfigMap") if c["metadata"]["name"].startswith("redis-scripts"))
    server, sentinel = scripts["data"]["redis.sh"], scripts["data"]["sentinel.sh"]
    # Plain ports off, TLS 1.3 for clients and for replication, on servers and Sentinels alike.
    assert "--port 0 --tls-port 6379" in server and "--tls-replication yes" in server
    assert "--tls-protocols TLSv1.3" in server
    for line in ("port 0", "tls-port 26379", "tls-replication yes", "tls-protocols TLSv1.3"):
        assert re.search(rf"^\s*{line}$", sentinel, re.M), line
    certs = {c["spec"]["secretName"] for c in of(objects, "Certificate")}
    for s in of(objects, "StatefulSet"):
        if s["metadata"]["name"] in ("redis", "redis-sentinel"):
            secrets = {v["secret"]["secretName"] for v in s["spec"]["template"]["spec"]["volumes"] if "secret" in v}
            assert secrets and secrets <= certs, s["metadata"]["name"]
            for c in containers(s):
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    if "exec" in c.get(probe, {}):
                        assert "--tls" in " ".join(c[probe]["exec"]["command"]), (c["name"], probe)
    # Every client: rediss:// Sentinels or URL, and our CA.
    for d in of(objects, "Deployment"):
        env = {e["name"]: e for c in containers(d) for e in c.get("env", [])}
        if "PROMPTSALES_REDIS_URL" in env:
            assert env["PROMPTSALES_REDIS_CA"]["value"].endswith("ca.crt"), d["metadata"]["name"]
            if "PROMPTSALES_REDIS_SENTINELS" in env:
                sentinels = env["PROMPTSALES_REDIS_SENTINELS"]["value"].split(",")
                assert len(sentinels) == 3 and all(u.startswith("rediss://") for u in sentinels)
    gateway = next(c for c in of(objects, "ConfigMap") if c["metadata"]["name"].startswith("gateway-config"))
    config = yaml.safe_load(next(iter(gateway["data"].values())))
    assert all(u.startswith("rediss://") for u in config["cache"]["redis"]["sentinels"])


def test_sql_server_services_should_log_in_as_their_own_login_not_sa(overlay):
    name, objects = overlay
    scripts = next(c for c in of(objects, "ConfigMap") if c["metadata"]["name"].startswith("mssql-scripts"))
    assert {"service-login.sql", "service-grants.sql"} <= set(scripts["data"])
    assert "service-login.sql" in scripts["data"]["ag-setup.sh"] and "service-grants.sql" in scripts["data"]["ag-setup.sh"]
    for store in ("ads", "crm"):
        job = next(j for j in of(objects, "Job") if j["metadata"]["name"] == f"mssql-{store}-ag-setup")
        env = {e["name"]: e for c in containers(job) for e in c.get("env", [])}
        assert env["ServiceLogin"]["value"] == f"promptsales_{store}"
        for var, key in (("ServicePassword", "service-password"), ("ServiceSid", "service-sid")):
            ref = env[var]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == (f"mssql-{store}", key), var
    if name == "local":
        # The generated store URLs the subgraphs read name the service logins; sa stays with migrate.
        secret = next(s for s in of(objects, "Secret") if s["metadata"]["name"].startswith("promptsales-store-urls"))
        for var, login in (("PROMPTSALES_ADS_URL", "promptsales_ads"), ("PROMPTSALES_CRM_URL", "promptsales_crm")):
            url = base64.b64decode(secret["data"][var]).decode()
            assert url.startswith(f"mssql://{login}:"), var


def test_env_names_should_be_ones_the_binaries_read(overlay):
    # A misspelt variable is silently ignored by the process: every PROMPTSALES_* name we set
    # must appear in the sources of the binary's crate or of the shared crates it uses.
    _, objects = overlay
    shared = "".join(p.read_text() for p in (REPO / "crates").rglob("*.rs"))
    for d in of(objects, "Deployment") + of(objects, "Job"):
        name = d["metadata"]["name"]
        crate = RUST.get(name, "cli" if name == "migrate" else None)
        if crate is None or not (REPO / crate).exists():
            continue
        kit = REPO / "mcp" / "kit"
        sources = shared + "".join(p.read_text() for p in (REPO / crate).rglob("*.rs"))
        if kit.exists():
            sources += "".join(p.read_text() for p in kit.rglob("*.rs"))
        for c in containers(d):
            for env in c.get("env", []):
                if env["name"].startswith("PROMPTSALES_"):
                    assert f'"{env["name"]}"' in sources, f"{name}: {env['name']} is read by nothing"


def test_databases_should_replicate_and_fail_over(overlay):
    _, objects = overlay
    pg = of(objects, "Cluster")[0]["spec"]
    assert pg["instances"] == 3
    assert pg["postgresql"]["synchronous"]["number"] >= 1
    assert pg["postgresql"]["synchronous"]["dataDurability"] == "required"
    assert of(objects, "MongoDBCommunity")[0]["spec"]["members"] == 3
    sets = {s["metadata"]["name"]: s for s in of(objects, "StatefulSet")}
    assert sets["redis"]["spec"]["replicas"] == 3 and sets["redis-sentinel"]["spec"]["replicas"] == 3
    scripts = next(c for c in of(objects, "ConfigMap") if c["metadata"]["name"].startswith("redis-scripts"))
    assert re.search(r"sentinel monitor promptsales \S+ 6379 2\b", scripts["data"]["sentinel.sh"])
    for store in ("ads", "crm"):
        assert sets[f"mssql-{store}"]["spec"]["replicas"] == 3
    mssql = next(c for c in of(objects, "ConfigMap") if c["metadata"]["name"].startswith("mssql-scripts"))
    assert "SYNCHRONOUS_COMMIT" in mssql["data"]["ag-setup.sh"]


def test_backups_should_run_daily_and_keep_30_days(overlay):
    name, objects = overlay
    cron = {c["metadata"]["name"]: c for c in of(objects, "CronJob")}
    scripts = next(c for c in of(objects, "ConfigMap") if c["metadata"]["name"].startswith("mssql-scripts"))
    for job in ("mongodb-backup", "mssql-ads-backup", "mssql-crm-backup"):
        minute, hour, dom, month, dow = cron[job]["spec"]["schedule"].split()
        assert (dom, month, dow) == ("*", "*", "*") and hour.isdigit(), job
        assert cron[job]["spec"]["concurrencyPolicy"] == "Forbid"
    assert "-mtime +30" in pod_spec(cron["mongodb-backup"])["containers"][0]["command"][-1]
    assert "DATEADD(day, -30," in scripts["data"]["backup.sh"]
    if name == "production":
        pg = of(objects, "Cluster")[0]["spec"]
        assert pg["backup"]["retentionPolicy"] == "30d"
        assert pg["backup"]["barmanObjectStore"]["wal"]  # WAL archiving: point-in-time recovery
        daily = of(objects, "ScheduledBackup")[0]["spec"]
        assert daily["cluster"]["name"] == "postgres" and daily["schedule"].split()[3:] == ["*", "*", "*"]


def test_logs_should_be_kept_90_days(overlay):
    _, objects = overlay
    loki = next(c for c in of(objects, "ConfigMap") if c["metadata"]["name"].startswith("loki-config"))
    config = yaml.safe_load(loki["data"]["loki-config.yaml"])
    assert config["limits_config"]["retention_period"] == "2160h"
    assert config["compactor"]["retention_enabled"] is True
    for d in of(objects, "Deployment"):
        if d["metadata"]["name"] in RUST:
            env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env.get("LOG_FORMAT") == "json", d["metadata"]["name"]


def test_every_service_should_be_scraped(overlay):
    _, objects = overlay
    monitors = of(objects, "ServiceMonitor")
    for d in of(objects, "Deployment"):
        name = d["metadata"]["name"]
        if name == "auth":  # no /metrics yet
            continue
        assert any(matches(m["spec"]["selector"], pod_labels(d)) for m in monitors), name


# The scopes of ARCHITECTURE.md ("Scopes"); checked against the document when it is at hand.
SCOPES = {"content:read", "content:write", "ads:read", "ads:write", "crm:read", "crm:write", "crm:pii",
          "sales:read", "sales:write", "etl:run", "admin"}


def test_realm_should_define_the_scopes_of_the_architecture():
    for arch in (REPO.parent / "shared" / "ARCHITECTURE.md", REPO.parent.parent / "shared" / "ARCHITECTURE.md"):
        if arch.exists():
            block = re.search(r"## Scopes\s+`([^`]+)`", arch.read_text()).group(1)
            assert set(block.split()) == SCOPES, f"{arch} lists other scopes"
    realm = json.loads((K8S / "base/idp/realm-promptsales.json").read_text())
    assert SCOPES <= {s["name"] for s in realm["clientScopes"]}
    clients = {c["clientId"]: c for c in realm["clients"]}
    assert {"promptsales-gateway", "promptsales-etl", "promptsales-mcp", "promptsales-portal"} <= set(clients)
    # Every client's tokens name the gateway as their audience.
    audience = next(s for s in realm["clientScopes"] if s["name"] == "promptsales-audience")
    assert audience["protocolMappers"][0]["config"]["included.custom.audience"] == "promptsales-gateway"
    for cid in ("promptsales-etl", "promptsales-mcp", "promptsales-portal"):
        assert "promptsales-audience" in clients[cid]["defaultClientScopes"], cid
        assert set(clients[cid]["defaultClientScopes"] + clients[cid]["optionalClientScopes"]) - SCOPES - {
            "promptsales-audience", "promptsales-organization", "profile", "email", "roles"} == set(), cid
