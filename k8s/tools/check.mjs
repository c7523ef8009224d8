#!/usr/bin/env node
// Offline checks of one rendered overlay (the output of `kubectl kustomize k8s/overlays/NAME`).
// Run by .ci/k8s-check; no cluster needed.
//
//   node k8s/tools/check.mjs --overlay cpu|gpu [--name DIR] [--renderer LABEL] [--mutations] RENDERED.yaml [JOB.yaml ...]
//
// JOB.yaml: a rendered job overlay (k8s/jobs/NAME), checked as deployed next to RENDERED.yaml's
// shards: it may hold only worker Jobs and their ConfigMaps (it must not touch the shards), and
// every Job of all the files is checked as the workers of its own job.
//
// 1. Schema: every object against the Kubernetes schemas (kubernetes-models; the Prometheus
//    Operator's for PodMonitor and PrometheusRule), unknown fields refused for the built-in
//    kinds (the official OpenAPI field lists of @kubernetes/client-node), plus the API server's
//    own rules that a schema does not carry (names, labels, references, ports, quantities).
// 2. The containers' commands are run: each shard pod's and each worker pod's command, with the
//    environment Kubernetes would give it, through /bin/sh with stand-ins for `parasol` and
//    `getent` that record what they were called with. Their arguments are parsed against the
//    flags that ServerCommand, WorkerCommand and JobOptions really declare.
// 3. Consistency: StatefulSet replicas = PARASOL_SHARDS = --shards; Job completions =
//    parallelism = PARASOL_WORKERS = --workers; --servers = the StatefulSet's pods under the
//    headless Service's DNS names and port; identical job flags for every worker; ports, probes,
//    checkpoint volume, grace period; PodMonitor selection; dashboards and rules = docker/'s;
//    the overlay's GPU (or no-GPU) requirements. Each Job (the base's, and one per job overlay
//    given after the rendered overlay) with its own ConfigMap: a different --job each, the Job
//    named after it, its counts and flags checked as above.
// --mutations also breaks the objects on purpose in several ways and fails unless every break is
// caught: a check that no longer fails is a broken check.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import YAML from "yaml";
import * as openapiModels from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");

// ---------------------------------------------------------------------------------------------
// Arguments

const argv = process.argv.slice(2);
let overlay = null;
let renderer = "kubectl";
let name = null;
let mutations = false;
let renderedFile = null;
const jobFiles = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--overlay") overlay = argv[++i];
  else if (a === "--renderer") renderer = argv[++i];
  else if (a === "--name") name = argv[++i];
  else if (a === "--mutations") mutations = true;
  else if (!a.startsWith("--") && renderedFile === null) renderedFile = a;
  else if (!a.startsWith("--")) jobFiles.push(a);
  else usage(`unknown argument ${a}`);
}
if (!["cpu", "gpu"].includes(overlay) || !renderedFile) usage("need --overlay cpu|gpu and a file");
const title = name ? `${name} (${overlay})` : overlay;

function usage(msg) {
  console.error(`check.mjs: ${msg}\nusage: node check.mjs --overlay cpu|gpu [--renderer LABEL]`
    + " [--mutations] RENDERED.yaml [JOB.yaml ...]");
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Flags declared in the Java sources (picocli @Option), so that the manifests' commands are
// checked against the real command lines.

// Flag names written as JobKeys constants (`names = JobKeys.LR_FLAG`), resolved from JobKeys.
const JOB_KEYS = new Map([...fs.readFileSync(path.join(repo,
  "ps-worker/src/main/java/io/parasol/worker/train/JobKeys.java"), "utf8")
  .matchAll(/static final String (\w+)\s*=\s*"([^"]*)"\s*;/g)].map((m) => [m[1], m[2]]));

/** A command's options, with those of its picocli mixins (@Mixin fields) in the same folder. */
function javaOptions(rel, seen = new Set()) {
  const src = fs.readFileSync(path.join(repo, rel), "utf8");
  seen.add(rel);
  const opts = new Map();
  const re = /@Option\(\s*names\s*=\s*(\{[^}]*\}|"[^"]*"|[\w.]+)[\s\S]*?\)\s*\n\s*([\w.<>, ]+?)\s+(\w+)\s*;/g;
  for (const m of src.matchAll(re)) {
    const names = [...m[1].matchAll(/"([^"]+)"|JobKeys\.(\w+)/g)].map((x) => {
      if (x[1] !== undefined) return x[1];
      if (!JOB_KEYS.has(x[2])) throw new Error(`${rel}: JobKeys.${x[2]} is not a String constant`);
      return JOB_KEYS.get(x[2]);
    });
    const type = m[2].trim();
    for (const n of names) opts.set(n, { flag: type === "boolean" || type === "Boolean", type });
  }
  for (const m of src.matchAll(/@Mixin\s+(?:final\s+)?(\w+)\s+\w+\s*(?:=[^;]*)?;/g)) {
    const mixin = path.join(path.dirname(rel), `${m[1]}.java`);
    if (!seen.has(mixin) && fs.existsSync(path.join(repo, mixin))) {
      for (const [k, v] of javaOptions(mixin, seen)) opts.set(k, v);
    }
  }
  if (opts.size === 0) throw new Error(`no @Option found in ${rel}`);
  return opts;
}

const HELP = new Map([["--help", { flag: true }], ["-h", { flag: true }],
  ["--version", { flag: true }], ["-V", { flag: true }]]);
const JOB_OPTIONS = javaOptions("cli/src/main/java/io/parasol/cli/JobOptions.java");
const WORKER_OPTIONS = new Map([...HELP, ...JOB_OPTIONS,
  ...javaOptions("cli/src/main/java/io/parasol/cli/WorkerCommand.java")]);
const SERVER_OPTIONS = new Map([...HELP,
  ...javaOptions("ps-server/src/main/java/io/parasol/server/ServerCommand.java")]);

/** Parses a picocli command line as picocli would: known options, one value each, no repeats. */
function parseCommandLine(args, spec, what, errors) {
  const values = new Map();
  for (let i = 0; i < args.length; i++) {
    let name = args[i];
    let value;
    const eq = name.indexOf("=");
    if (name.startsWith("--") && eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const o = spec.get(name);
    if (!o) {
      errors.push(`${what}: unknown ${name.startsWith("-") ? "option" : "argument"} '${args[i]}'`
        + " (not declared in the Java sources)");
      continue;
    }
    if (!o.flag && value === undefined) {
      if (i + 1 >= args.length) {
        errors.push(`${what}: option ${name} needs a value`);
        continue;
      }
      value = args[++i];
    }
    if (values.has(name)) {
      errors.push(`${what}: option ${name} given twice (picocli refuses that)`);
    }
    values.set(name, o.flag ? true : value);
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Schema validation

const CRD_MODULES = {
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

async function modelClass(apiVersion, kind) {
  const mod = CRD_MODULES[apiVersion] ?? `kubernetes-models/${apiVersion}`;
  try {
    const m = await import(mod);
    return m[kind] ?? null;
  } catch {
    return null;
  }
}

/** The OpenAPI class name of a built-in kind (apps/v1 StatefulSet -> V1StatefulSet). */
function openapiRoot(apiVersion, kind) {
  if (CRD_MODULES[apiVersion]) return null;
  const version = apiVersion.split("/").pop();
  const name = version[0].toUpperCase() + version.slice(1) + kind;
  return openapiModels[name] ? name : null;
}

/** Refuses fields the official schema does not have (what kubectl's strict validation does). */
function unknownFields(value, type, at, errors) {
  if (value === null || value === undefined) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, m[1], `${at}[${i}]`, errors));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) unknownFields(v, m[1], `${at}.${k}`, errors);
    }
    return;
  }
  const cls = openapiModels[type];
  if (!cls || !Array.isArray(cls.attributeTypeMap)) return; // a primitive or free-form type
  if (typeof value !== "object" || Array.isArray(value)) return; // the schema check reports it
  const fields = new Map(cls.attributeTypeMap.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) {
      errors.push(`${at}.${k}: unknown field (not in ${type})`);
    } else {
      unknownFields(v, fields.get(k), `${at}.${k}`, errors);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function id(o) {
  return `${o.kind}/${o.metadata?.name}`;
}

function quantity(q) {
  const m = /^([+-]?[0-9.]+)([a-zA-Z]*)$/.exec(String(q).trim());
  if (!m) return NaN;
  const mult = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }[m[2]];
  return mult === undefined ? NaN : Number(m[1]) * mult;
}

function labelsMatch(selector, labels) {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels?.[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = labels && Object.hasOwn(labels, e.key);
    const val = labels?.[e.key];
    if (e.operator === "In" && !(has && e.values.includes(val))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(val)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

function imageRepo(image) {
  const noDigest = image.split("@")[0];
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  const repoPart = colon > slash ? noDigest.slice(0, colon) : noDigest;
  return repoPart.slice(repoPart.lastIndexOf("/") + 1);
}

/** Kubernetes' $(VAR) expansion of command, args and env values ($$ escapes a $). */
function expand(s, env) {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "$" && s[i + 1] === "$") {
      out += "$";
      i++;
    } else if (s[i] === "$" && s[i + 1] === "(") {
      const close = s.indexOf(")", i + 2);
      const name = close < 0 ? null : s.slice(i + 2, close);
      if (name !== null && Object.hasOwn(env, name)) {
        out += env[name];
        i = close;
      } else {
        out += "$";
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running a container's command with stand-ins

const stubDir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-check-"));
process.on("exit", () => fs.rmSync(stubDir, { recursive: true, force: true }));
// `parasol` is the image's own launcher where the repository has it (docker/parasol-launcher.sh),
// with a stand-in `java`: so what the JVM would get (JAVA_OPTS, JavaCPP's cache, flags the
// launcher adds such as PARASOL_JOB_FLAGS) is checked too. Otherwise a stand-in `parasol`.
const LAUNCHER = path.join(repo, "docker/parasol-launcher.sh");
const withLauncher = fs.existsSync(LAUNCHER) && !process.env.K8S_CHECK_NO_LAUNCHER;
const recordArgs = "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$K8S_CHECK_ARGS\"\n";
if (withLauncher) {
  fs.copyFileSync(LAUNCHER, path.join(stubDir, "parasol"));
  fs.chmodSync(path.join(stubDir, "parasol"), 0o755);
  fs.writeFileSync(path.join(stubDir, "java"), recordArgs, { mode: 0o755 });
} else {
  fs.writeFileSync(path.join(stubDir, "parasol"), recordArgs, { mode: 0o755 });
}
fs.writeFileSync(path.join(stubDir, "getent"),
  "#!/bin/sh\nprintf '%s %s\\n' \"$1\" \"$2\" >> \"$K8S_CHECK_GETENT\"\n", { mode: 0o755 });
fs.writeFileSync(path.join(stubDir, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });

/** The environment Kubernetes gives a container (env, envFrom, downward API, extras). */
function containerEnv(container, pod, configMaps, errors, what) {
  const env = { ...pod.injected };
  for (const ef of container.envFrom ?? []) {
    if (ef.configMapRef) {
      const cm = configMaps.get(ef.configMapRef.name);
      if (!cm) {
        if (!ef.configMapRef.optional) {
          errors.push(`${what}: envFrom ConfigMap ${ef.configMapRef.name} is not in the output`);
        }
        continue;
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env[(ef.prefix ?? "") + k] = v;
    } else if (ef.secretRef) {
      errors.push(`${what}: envFrom secretRef cannot be checked offline`);
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expand(e.value, env);
    } else if (e.valueFrom?.fieldRef) {
      const f = e.valueFrom.fieldRef.fieldPath;
      const v = { "metadata.name": pod.name, "metadata.namespace": pod.namespace }[f]
        ?? (/^metadata\.labels\['(.+)'\]$/.exec(f) ? pod.labels[/'(.+)'/.exec(f)[1]] : undefined)
        ?? (/^metadata\.annotations\['(.+)'\]$/.exec(f)
          ? pod.annotations[/'(.+)'/.exec(f)[1]] : undefined);
      if (v === undefined) errors.push(`${what}: env ${e.name}: fieldRef ${f} has no value here`);
      else env[e.name] = v;
    } else if (e.valueFrom?.configMapKeyRef) {
      const r = e.valueFrom.configMapKeyRef;
      const v = configMaps.get(r.name)?.data?.[r.key];
      if (v === undefined && !r.optional) {
        errors.push(`${what}: env ${e.name}: ConfigMap ${r.name} has no key ${r.key}`);
      } else if (v !== undefined) {
        env[e.name] = v;
      }
    } else if (e.valueFrom?.resourceFieldRef) {
      env[e.name] = "1";
    } else {
      env[e.name] = "";
    }
  }
  return env;
}

/** Runs the container's command as its pod would; returns the arguments given to `parasol`. */
function runContainer(container, env, what, errors) {
  const command = (container.command ?? ["parasol"]).map((s) => expand(s, env));
  const args = (container.args ?? []).map((s) => expand(s, env));
  const all = [...command, ...args];
  const out = path.join(stubDir, "args");
  const getent = path.join(stubDir, "getent.log");
  fs.rmSync(out, { force: true });
  fs.rmSync(getent, { force: true });
  const r = spawnSync(all[0] === "parasol" ? path.join(stubDir, "parasol") : all[0], all.slice(1), {
    env: { ...env, PATH: `${stubDir}:/usr/bin:/bin`, K8S_CHECK_ARGS: out, K8S_CHECK_GETENT: getent },
    encoding: "utf8",
    timeout: 20000,
  });
  if (r.error || r.status !== 0 || !fs.existsSync(out)) {
    errors.push(`${what}: its command did not reach 'parasol' (exit ${r.status}`
      + `${r.error ? ", " + r.error.message : ""}): ${(r.stderr || r.stdout || "").trim()}`);
    return null;
  }
  let parasolArgs = fs.readFileSync(out, "utf8").split("\0").slice(0, -1);
  let jvmArgs = null;
  if (withLauncher) {
    const jar = parasolArgs.indexOf("-jar");
    if (jar < 0) {
      errors.push(`${what}: the launcher ran java without -jar: ${parasolArgs.join(" ")}`);
      return null;
    }
    jvmArgs = [...(env.JAVA_TOOL_OPTIONS ?? "").split(/\s+/).filter(Boolean),
      ...parasolArgs.slice(0, jar)];
    parasolArgs = parasolArgs.slice(jar + 2);
  }
  const looked = fs.existsSync(getent)
    ? fs.readFileSync(getent, "utf8").trim().split("\n").map((l) => l.split(" ")[1]) : [];
  return { args: parasolArgs, getent: looked, jvmArgs };
}

// ---------------------------------------------------------------------------------------------
// TLS and token (k8s/overlays/secure): every file a flag names comes from a Secret mounted
// read-only in that container (and, where the volume projects items, one of them); the workers
// speak what the shards require.

const FILE_FLAGS = ["--tls-cert", "--tls-key", "--tls-client-ca", "--tls-ca", "--token-file"];

function secretFiles(container, podSpec, opts, what, err) {
  const files = [];
  const writable = new Set();
  for (const flag of FILE_FLAGS) {
    const file = opts?.get(flag);
    if (file === undefined) continue;
    const mount = (container?.volumeMounts ?? []).find((m) =>
      file.startsWith(m.mountPath.replace(/\/?$/, "/")));
    if (!mount) {
      err(`${what}: ${flag} ${file} is on no volume the container mounts`);
      continue;
    }
    const volume = (podSpec?.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume?.secret) {
      err(`${what}: ${flag} ${file} is on volume ${mount.name}, which is not a Secret`);
      continue;
    }
    if (!mount.readOnly && !writable.has(mount.name)) {
      writable.add(mount.name);
      err(`${what}: the Secret volume ${mount.name} is not mounted readOnly`);
    }
    const rel = file.slice(mount.mountPath.replace(/\/?$/, "/").length);
    const items = volume.secret.items;
    if (items && !items.some((it) => it.path === rel)) {
      err(`${what}: ${flag} ${file}: the volume ${mount.name} projects no ${rel} from Secret`
        + ` ${volume.secret.secretName}`);
    }
    files.push({ flag, secret: volume.secret.secretName,
      key: items?.find((it) => it.path === rel)?.key ?? rel });
  }
  return files;
}

function securityChecks(sts, shardContainer, shard, job, workerContainer, worker, err, facts) {
  const shardWhat = `${id(sts)} container ${shardContainer?.name}`;
  const workerWhat = `${id(job)} container ${workerContainer?.name}`;
  const shardFiles = secretFiles(shardContainer, sts.spec?.template?.spec, shard, shardWhat, err);
  const workerFiles = secretFiles(workerContainer, job.spec?.template?.spec, worker, workerWhat,
    err);
  const shardTls = shard?.has("--tls-cert") ?? false;
  const workerTls = [...(worker?.keys() ?? [])].some((k) => k.startsWith("--tls"));
  if (shardTls && !workerTls) err(`${workerWhat}: the shards serve TLS but the workers dial plaintext`);
  if (!shardTls && workerTls) err(`${workerWhat}: the workers dial TLS but the shards serve plaintext`);
  if (shard?.has("--tls-client-ca") && !(worker?.has("--tls-cert") && worker?.has("--tls-key"))) {
    err(`${workerWhat}: the shards require client certificates (--tls-client-ca) but the workers`
      + " give no --tls-cert and --tls-key");
  }
  const shardToken = shard?.has("--token-file") || shard?.has("--token-env");
  const workerToken = worker?.has("--token-file") || worker?.has("--token-env");
  if (shardToken && !workerToken) err(`${workerWhat}: the shards require a token the workers do not send`);
  if (!shardToken && workerToken) err(`${workerWhat}: the workers send a token the shards do not check`);
  // The workers get no Secret volume that would show them the shards' private key.
  const shardKey = shardFiles.find((f) => f.flag === "--tls-key");
  for (const v of job.spec?.template?.spec?.volumes ?? []) {
    if (!shardKey || v.secret?.secretName !== shardKey.secret || worker?.has("--tls-key")) continue;
    const keys = v.secret.items?.map((it) => it.key);
    if (!keys || keys.includes(shardKey.key)) {
      err(`${workerWhat}: volume ${v.name} gives the workers the shards' private key`
        + ` (${shardKey.secret}/${shardKey.key}): project the CA only`);
    }
  }
  facts.security = shardTls || shardToken
    ? `TLS ${shardTls ? "on" : "off"}, token ${shardToken ? "on" : "off"}; Secrets: shards `
      + `${shardFiles.map((f) => `${f.secret}/${f.key}`).join(", ")}, workers `
      + `${workerFiles.map((f) => `${f.secret}/${f.key}`).join(", ")}`
    : "plaintext, no token";
}

// ---------------------------------------------------------------------------------------------
// The checks. Returns {errors, facts}; never throws on bad input.

async function check(objects) {
  const errors = [];
  const err = (m) => errors.push(m);
  const facts = {};

  // --- 1. schemas and API rules
  const seen = new Set();
  for (const o of objects) {
    if (!o || typeof o !== "object" || !o.apiVersion || !o.kind || !o.metadata?.name) {
      err(`an object without apiVersion, kind or metadata.name: ${JSON.stringify(o).slice(0, 80)}`);
      continue;
    }
    const key = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    if (seen.has(key)) err(`${id(o)}: defined twice`);
    seen.add(key);
    const Cls = await modelClass(o.apiVersion, o.kind);
    if (!Cls) {
      err(`${id(o)}: no schema for ${o.apiVersion} ${o.kind}`);
    } else {
      try {
        new Cls(structuredClone(o)).validate();
      } catch (e) {
        err(`${id(o)}: schema: ${String(e.message ?? e).split("\n").slice(0, 6).join("; ")}`);
      }
    }
    const root = openapiRoot(o.apiVersion, o.kind);
    if (root) unknownFields(o, root, id(o), errors);
    else if (!CRD_MODULES[o.apiVersion]) err(`${id(o)}: no OpenAPI field list for ${o.kind}`);
    // The API server's rules that the schemas leave out.
    const name = o.metadata.name;
    const nameRule = ["Namespace", "Service"].includes(o.kind) ? DNS_LABEL : DNS_SUBDOMAIN;
    if (!nameRule.test(name) || name.length > (nameRule === DNS_LABEL ? 63 : 253)) {
      err(`${id(o)}: invalid name`);
    }
    checkMeta(o.metadata, id(o), err);
    // A client-side `kubectl apply` keeps the object in an annotation of at most 256 KiB.
    if (JSON.stringify(o).length >= 262144) {
      err(`${id(o)}: ${JSON.stringify(o).length} bytes: too large for kubectl apply's`
        + " last-applied-configuration annotation (256 KiB)");
    }
  }

  const of = (kind) => objects.filter((o) => o?.kind === kind);
  const namespaces = of("Namespace");
  if (namespaces.length !== 1) err(`expected one Namespace, found ${namespaces.length}`);
  const ns = namespaces[0]?.metadata?.name;
  facts.namespace = ns;
  for (const o of objects) {
    if (o?.kind && o.kind !== "Namespace" && o.metadata?.namespace !== ns) {
      err(`${id(o)}: in namespace ${o.metadata?.namespace}, not ${ns}`);
    }
  }
  const configMaps = new Map(of("ConfigMap").map((c) => [c.metadata.name, c]));

  for (const o of objects) {
    const tmpl = o?.spec?.template;
    if (["StatefulSet", "Job", "Deployment", "DaemonSet"].includes(o?.kind) && tmpl) {
      checkPodSpec(o, tmpl, configMaps, err);
    }
  }

  // --- 2. shards
  const stss = of("StatefulSet");
  if (stss.length !== 1) err(`expected one StatefulSet (the shards), found ${stss.length}`);
  const sts = stss[0];
  const jobs = of("Job");
  if (jobs.length === 0) err("expected a Job (the workers of a job), found none");
  if (!sts || jobs.length === 0) return { errors, facts };

  const svc = of("Service").find((s) => s.metadata.name === sts.spec?.serviceName);
  if (!svc) err(`${id(sts)}: serviceName ${sts.spec?.serviceName} is not a Service in the output`);
  else {
    if (svc.spec?.clusterIP !== "None") err(`${id(svc)}: must be headless (clusterIP: None)`);
    if (!labelsMatch({ matchLabels: svc.spec?.selector }, sts.spec?.template?.metadata?.labels)
      || !svc.spec?.selector) {
      err(`${id(svc)}: its selector does not select the shard pods`);
    }
  }
  const shardContainer = sts.spec?.template?.spec?.containers?.[0];
  const cmName = shardContainer?.envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
  const jobCm = configMaps.get(cmName);
  if (!jobCm) {
    err(`${id(sts)}: its container reads no job ConfigMap through envFrom`);
    return { errors, facts };
  }
  const cmShards = Number(jobCm.data?.PARASOL_SHARDS);
  if (!Number.isInteger(cmShards) || cmShards < 1) {
    err(`ConfigMap ${cmName}: PARASOL_SHARDS '${jobCm.data?.PARASOL_SHARDS}' is not a count`);
  }
  const replicas = sts.spec?.replicas ?? 1;
  if (replicas !== cmShards) {
    err(`shard count: StatefulSet ${sts.metadata.name} has replicas ${replicas} but ConfigMap`
      + ` ${cmName} has PARASOL_SHARDS=${jobCm.data?.PARASOL_SHARDS}`);
  }

  const shardTmpl = sts.spec.template;
  const portOf = (c, n) => c?.ports?.find((p) => p.name === n)?.containerPort;
  const grpcPort = portOf(shardContainer, "grpc");
  const shardMetricsPort = portOf(shardContainer, "metrics");
  if (!grpcPort) err(`${id(sts)}: container ${shardContainer?.name} has no port named grpc`);
  const svcGrpc = svc?.spec?.ports?.find((p) => p.name === "grpc");
  if (svc && !svcGrpc) err(`${id(svc)}: no port named grpc`);
  if (svcGrpc && ![grpcPort, "grpc"].includes(svcGrpc.targetPort ?? svcGrpc.port)) {
    err(`${id(svc)}: port grpc targets ${svcGrpc.targetPort}, not the shard's ${grpcPort}`);
  }
  if (svcGrpc && svcGrpc.port !== grpcPort) {
    // The workers dial the Service's per-pod names: headless, so the pod's port is what counts.
    err(`${id(svc)}: port grpc is ${svcGrpc.port} but the shards listen on ${grpcPort}`);
  }
  const claim = sts.spec.volumeClaimTemplates?.[0];
  if (!claim) err(`${id(sts)}: no volumeClaimTemplates (checkpoints)`);
  const ckptMount = shardContainer?.volumeMounts?.find((m) => m.name === claim?.metadata?.name);
  if (claim && !ckptMount) err(`${id(sts)}: the claim ${claim.metadata.name} is not mounted`);

  let shardArgs0 = null;
  let shardOpts0 = null;
  for (let i = 0; i < replicas; i++) {
    const podName = `${sts.metadata.name}-${i}`;
    const what = `shard pod ${podName}`;
    const pod = { name: podName, namespace: ns,
      labels: { ...shardTmpl.metadata?.labels, "apps.kubernetes.io/pod-index": String(i),
        "statefulset.kubernetes.io/pod-name": podName },
      annotations: shardTmpl.metadata?.annotations ?? {},
      injected: { HOSTNAME: podName } };
    const env = containerEnv(shardContainer, pod, configMaps, errors, what);
    const run = runContainer(shardContainer, env, what, errors);
    if (!run) continue;
    if (run.args[0] !== "server") {
      err(`${what}: runs 'parasol ${run.args[0]}', not 'parasol server'`);
      continue;
    }
    const o = parseCommandLine(run.args.slice(1), SERVER_OPTIONS, `${what}: parasol server`,
      errors);
    jvmChecks("shard", shardContainer, run, env, what, err);
    if (i === 0) {
      shardArgs0 = run.args;
      shardOpts0 = o;
    }
    if (o.get("--shard") !== String(i)) err(`${what}: --shard ${o.get("--shard")}, expected ${i}`);
    if (o.get("--shards") !== String(replicas)) {
      err(`shard count: ${what} runs --shards ${o.get("--shards")} but the StatefulSet has`
        + ` ${replicas} replicas`);
    }
    if (o.get("--host") !== "0.0.0.0") {
      err(`${what}: --host ${o.get("--host") ?? "(default 127.0.0.1)"}: must listen on 0.0.0.0`);
    }
    if (Number(o.get("--port") ?? 7070) !== grpcPort) {
      err(`${what}: --port ${o.get("--port") ?? "(default 7070)"} but container port grpc is`
        + ` ${grpcPort}`);
    }
    const mp = Number(o.get("--metrics-port") ?? 0);
    if (!mp) err(`${what}: no --metrics-port: nothing to scrape`);
    else if (mp !== shardMetricsPort) {
      err(`${what}: --metrics-port ${mp} but container port metrics is ${shardMetricsPort}`);
    }
    const ann = shardTmpl.metadata?.annotations?.["prometheus.io/port"];
    if (ann !== undefined && Number(ann) !== mp) {
      err(`${what}: annotation prometheus.io/port ${ann} but --metrics-port ${mp}`);
    }
    if (o.get("--checkpoint-dir") === undefined) err(`${what}: no --checkpoint-dir`);
    else if (ckptMount && o.get("--checkpoint-dir") !== ckptMount.mountPath) {
      err(`${what}: --checkpoint-dir ${o.get("--checkpoint-dir")} is not the claim's mount`
        + ` ${ckptMount.mountPath}`);
    }
    const grace = Number(o.get("--grace") ?? 10);
    const tgps = shardTmpl.spec?.terminationGracePeriodSeconds ?? 30;
    if (tgps < grace + 15) {
      err(`${what}: terminationGracePeriodSeconds ${tgps} leaves less than 15 s after --grace`
        + ` ${grace} for the last checkpoint`);
    }
  }

  // A TLS shard cannot be probed with the kubelet's gRPC probes (plaintext only): TCP instead.
  const shardTls = shardOpts0?.has("--tls-cert") ?? false;
  for (const probe of ["readinessProbe", "livenessProbe"]) {
    const p = shardContainer?.[probe];
    if (!p) err(`${id(sts)}: shard container has no ${probe}`);
    else if (shardTls && p.grpc) {
      err(`${id(sts)}: ${probe} is a gRPC probe, but the shards serve TLS and the kubelet's gRPC`
        + " probes speak plaintext only (use tcpSocket)");
    } else if (shardTls && ![grpcPort, "grpc"].includes(p.tcpSocket?.port)) {
      err(`${id(sts)}: ${probe} is no TCP probe of the gRPC port ${grpcPort}`);
    } else if (!shardTls && !p.grpc) err(`${id(sts)}: ${probe} is not a gRPC probe`);
    else if (!shardTls && p.grpc.port !== grpcPort) {
      err(`${id(sts)}: ${probe} checks port ${p.grpc.port}, the shards listen on ${grpcPort}`);
    }
  }
  const startup = shardContainer?.startupProbe;
  if (shardTls && startup?.grpc) {
    err(`${id(sts)}: startupProbe is a gRPC probe, but the shards serve TLS (use tcpSocket)`);
  }

  // --- 3. workers: each Job is the workers of one job (the base's, and one per job overlay in
  // k8s/jobs), with its own ConfigMap; several Jobs run different jobs (--job) on the shards.
  const workerPods = [];
  const jobNames = new Map();
  facts.jobs = [];
  const shardPort = svcGrpc?.port ?? grpcPort;
  for (const job of jobs) {
    const wCmName = job.spec?.template?.spec?.containers?.[0]?.envFrom
      ?.find((e) => e.configMapRef)?.configMapRef?.name;
    const wCm = configMaps.get(wCmName);
    if (!wCm) {
      err(`${id(job)}: its container reads no job ConfigMap through envFrom`);
      continue;
    }
    const cmWorkers = Number(wCm.data?.PARASOL_WORKERS);
    if (!Number.isInteger(cmWorkers) || cmWorkers < 1) {
      err(`ConfigMap ${wCmName}: PARASOL_WORKERS '${wCm.data?.PARASOL_WORKERS}' is not a count`);
    }
    if (wCm !== jobCm && Number(wCm.data?.PARASOL_SHARDS) !== replicas) {
      err(`shard count: StatefulSet ${sts.metadata.name} has replicas ${replicas} but ConfigMap`
        + ` ${wCmName} (${id(job)}) has PARASOL_SHARDS=${wCm.data?.PARASOL_SHARDS}`);
    }
    if (wCm.data?.PARASOL_JOB_FLAGS === undefined) {
      err(`ConfigMap ${wCmName}: no PARASOL_JOB_FLAGS`);
    } else {
      // Flags the manifests set themselves may not be repeated there (picocli refuses repeats).
      const jf = wCm.data.PARASOL_JOB_FLAGS.trim().split(/\s+/).filter(Boolean);
      const reserved = ["--shards", "--workers", "--servers", "--worker", "--metrics-port",
        "--metrics-host"];
      for (const t of jf) {
        if (reserved.includes(t.split("=")[0])) {
          err(`ConfigMap ${wCmName}: PARASOL_JOB_FLAGS sets ${t}, which the manifests set`);
        }
        if (/[*?[]/.test(t)) err(`ConfigMap ${wCmName}: PARASOL_JOB_FLAGS token '${t}' has a glob`);
      }
      parseCommandLine(jf, JOB_OPTIONS, `ConfigMap ${wCmName} PARASOL_JOB_FLAGS`, errors);
    }
    const spec = job.spec ?? {};
    const workerTmpl = spec.template ?? {};
    const workerContainer = workerTmpl.spec?.containers?.[0];
    if (spec.completionMode !== "Indexed") err(`${id(job)}: completionMode must be Indexed`);
    if (spec.completions !== cmWorkers || spec.parallelism !== cmWorkers) {
      err(`worker count: Job ${job.metadata.name} has completions ${spec.completions} and`
        + ` parallelism ${spec.parallelism} but ConfigMap ${wCmName} has`
        + ` PARASOL_WORKERS=${wCm.data?.PARASOL_WORKERS} (all three must agree)`);
    }
    if (spec.backoffLimit === undefined) err(`${id(job)}: no backoffLimit`);
    const wMetricsPort = portOf(workerContainer, "metrics");
    const expectedServers = [];
    const domain = wCm.data?.PARASOL_CLUSTER_DOMAIN ?? "cluster.local";
    for (let i = 0; i < replicas; i++) {
      expectedServers.push(`${sts.metadata.name}-${i}.${sts.spec.serviceName}.${ns}.svc.${domain}`
        + `:${shardPort}`);
    }
    let jobFlags0 = null;
    let workerOpts0 = null;
    const workerCount = Number.isInteger(spec.completions) ? spec.completions : 0;
    for (let k = 0; k < workerCount; k++) {
      const podName = `${job.metadata.name}-${k}-abcde`;
      const what = `${job.metadata.name} pod ${k}`;
      const pod = { name: podName, namespace: ns,
        labels: { ...workerTmpl.metadata?.labels, "batch.kubernetes.io/job-completion-index": `${k}` },
        annotations: { ...workerTmpl.metadata?.annotations,
          "batch.kubernetes.io/job-completion-index": `${k}` },
        injected: { HOSTNAME: podName, JOB_COMPLETION_INDEX: `${k}` } };
      const env = containerEnv(workerContainer, pod, configMaps, errors, what);
      const run = runContainer(workerContainer, env, what, errors);
      if (!run) continue;
      if (run.args[0] !== "worker") {
        err(`${what}: runs 'parasol ${run.args[0]}', not 'parasol worker'`);
        continue;
      }
      const o = parseCommandLine(run.args.slice(1), WORKER_OPTIONS, `${what}: parasol worker`,
        errors);
      jvmChecks("worker", workerContainer, run, env, what, err);
      if (k === 0) {
        facts.workerJvm = run.jvmArgs;
        workerOpts0 = o;
      }
      if (o.get("--worker") !== String(k)) {
        err(`${what}: --worker ${o.get("--worker")}, expected its completion index ${k}`);
      }
      if (o.get("--workers") !== String(spec.completions)) {
        err(`worker count: ${what} runs --workers ${o.get("--workers") ?? "(default 4)"} but the Job`
          + ` has completions ${spec.completions}`);
      }
      if (o.get("--shards") !== String(replicas)) {
        err(`shard count: ${what} runs --shards ${o.get("--shards") ?? "(default 2)"} but the`
          + ` StatefulSet has ${replicas} replicas`);
      }
      const servers = String(o.get("--servers") ?? "").split(",");
      if (!isDeepStrictEqual(servers, expectedServers)) {
        err(`shard addresses: ${what} runs --servers ${servers.join(",")} but the StatefulSet's`
          + ` ${replicas} pods behind the headless Service are ${expectedServers.join(",")}`);
      }
      const hosts = expectedServers.map((s) => s.slice(0, s.lastIndexOf(":")));
      if (!isDeepStrictEqual([...new Set(run.getent)].sort(), [...hosts].sort())) {
        err(`${what}: waits for ${run.getent.join(",") || "no shard"} instead of ${hosts.join(",")}`);
      }
      if (o.get("--metrics-host") !== "0.0.0.0") {
        err(`${what}: --metrics-host ${o.get("--metrics-host") ?? "(default 127.0.0.1)"}: Prometheus`
          + " cannot reach it");
      }
      const mp = Number(o.get("--metrics-port") ?? 0);
      if (!mp) err(`${what}: no --metrics-port: nothing to scrape`);
      else if (mp !== wMetricsPort) {
        err(`${what}: --metrics-port ${mp} but container port metrics is ${wMetricsPort}`);
      }
      const ann = workerTmpl.metadata?.annotations?.["prometheus.io/port"];
      if (ann !== undefined && Number(ann) !== mp) {
        err(`${what}: annotation prometheus.io/port ${ann} but --metrics-port ${mp}`);
      }
      // Every worker must get the same job flags: everything but --worker.
      const rest = [];
      for (let i = 1; i < run.args.length; i++) {
        if (run.args[i] === "--worker") i++;
        else if (!run.args[i].startsWith("--worker=")) rest.push(run.args[i]);
      }
      if (jobFlags0 === null) jobFlags0 = rest;
      else if (!isDeepStrictEqual(rest, jobFlags0)) {
        err(`${what}: job flags differ from worker 0's: ${rest.join(" ")}`);
      }
    }
    securityChecks(sts, shardContainer, shardOpts0, job, workerContainer, workerOpts0, err,
      facts);
    // Each Job runs its own job and is named after it: --job NAME in Job parasol-worker-NAME (the
    // job `default` in parasol-worker). Two Jobs with one --job would be one job on the shards.
    const jobName = workerOpts0?.get("--job") ?? "default";
    if (jobNames.has(jobName)) {
      err(`${id(job)} runs --job ${jobName}, as ${jobNames.get(jobName)} does: the shards would`
        + " take both for one job");
    }
    jobNames.set(jobName, id(job));
    const stem = sts.metadata.name.replace(/-shard$/, "-worker");
    const named = jobName === "default" ? stem : `${stem}-${jobName}`;
    if (workerOpts0 && job.metadata.name !== named) {
      err(`${id(job)} runs --job ${jobName}: name it ${named}`);
    }
    workerPods.push([`${job.metadata.name} worker`, workerTmpl, workerContainer]);
    facts.jobs.push(`${jobName} (${spec.completions} workers)`);
    facts.jobFlags ??= jobFlags0;
    facts.servers = expectedServers;
  }
  facts.shards = replicas;
  facts.shardArgs = shardArgs0;

  // --- 4. monitoring
  const podKinds = [["shard", shardTmpl, shardContainer], ...workerPods];
  const monitors = of("PodMonitor");
  if (monitors.length === 0) err("no PodMonitor");
  for (const pm of monitors) {
    for (const [kind, tmpl] of podKinds) {
      if (!labelsMatch(pm.spec?.selector, tmpl.metadata?.labels)) {
        err(`${id(pm)}: its selector does not select the ${kind} pods`);
        continue;
      }
      for (const ep of pm.spec?.podMetricsEndpoints ?? []) {
        const has = tmpl.spec?.containers?.some((c) => c.ports?.some((p) => p.name === ep.port));
        if (!has) err(`${id(pm)}: endpoint port ${ep.port} is not a port of the ${kind} pods`);
      }
    }
    const nsSel = pm.spec?.namespaceSelector;
    if (nsSel && !nsSel.any && !(nsSel.matchNames ?? []).includes(ns)) {
      err(`${id(pm)}: its namespaceSelector leaves out ${ns}`);
    }
  }
  const dashboardsDir = path.join(repo, "docker/grafana/dashboards");
  const dashFiles = fs.readdirSync(dashboardsDir).filter((f) => f.endsWith(".json")).sort();
  const dashCms = of("ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard === "1");
  if (dashCms.length !== 1) err(`expected one ConfigMap labelled grafana_dashboard=1, found ${dashCms.length}`);
  for (const cm of dashCms) {
    const keys = Object.keys(cm.data ?? {}).sort();
    if (!isDeepStrictEqual(keys, dashFiles)) {
      err(`ConfigMap ${cm.metadata.name}: dashboards ${keys.join(",")} but docker/grafana/dashboards`
        + ` has ${dashFiles.join(",")} (run k8s/sync-monitoring.sh and list them in`
        + " k8s/base/monitoring/kustomization.yaml)");
    }
    const uids = new Set();
    for (const f of keys) {
      const want = dashFiles.includes(f) ? fs.readFileSync(path.join(dashboardsDir, f), "utf8") : null;
      if (want !== null && cm.data[f] !== want) {
        err(`ConfigMap ${cm.metadata.name}: ${f} differs from docker/grafana/dashboards/${f}`
          + " (run k8s/sync-monitoring.sh)");
      }
      try {
        const uid = JSON.parse(cm.data[f]).uid;
        if (!uid || uids.has(uid)) err(`ConfigMap ${cm.metadata.name}: ${f}: missing or repeated uid`);
        uids.add(uid);
      } catch (e) {
        err(`ConfigMap ${cm.metadata.name}: ${f} is not JSON: ${e.message}`);
      }
    }
    if (cm.metadata.name.match(/-[a-z0-9]{10}$/) && !cm.metadata.name.endsWith("dashboards")) {
      err(`ConfigMap ${cm.metadata.name}: a hashed name would leave old copies for the sidecar`);
    }
  }
  const rules = of("PrometheusRule");
  const dockerRules = YAML.parse(fs.readFileSync(path.join(repo, "docker/prometheus-rules.yml"),
    "utf8"));
  if (rules.length !== 1) err(`expected one PrometheusRule, found ${rules.length}`);
  else if (!isDeepStrictEqual(rules[0].spec?.groups, dockerRules.groups)) {
    err(`${id(rules[0])}: its groups differ from docker/prometheus-rules.yml`
      + " (run k8s/sync-monitoring.sh)");
  }

  // --- 5. the overlay
  const gpuOf = (c) => c?.resources?.limits?.["nvidia.com/gpu"];
  const tolerates = (t) => (t ?? []).some((x) => x.key === "nvidia.com/gpu"
    && (x.effect === "NoSchedule" || x.effect === undefined)
    && (x.operator === "Exists" || x.operator === undefined || x.operator === "Equal"));
  const gpuSelector = (s) => Object.keys(s ?? {}).some((k) => k.startsWith("nvidia.com/gpu"));
  const shardImage = shardContainer?.image ?? "";
  const workerImages = [...new Set(workerPods.map(([, , c]) => c?.image ?? ""))];
  facts.images = `${shardImage} (shards), ${workerImages.join(", ")} (workers)`;
  // Shards run the shard image (docker/Dockerfile's server target: ps-server only, no ND4J).
  if (imageRepo(shardImage) !== "parasol-server") {
    err(`${id(sts)}: image ${shardImage} is not parasol-server`);
  }
  if (overlay === "gpu") {
    const gpus = [];
    for (const [kind, workerTmpl, workerContainer] of workerPods) {
      const g = gpuOf(workerContainer);
      gpus.push(g);
      if (!(Number(g) >= 1 && Number.isInteger(Number(g)))) {
        err(`gpu overlay: ${kind} container has no nvidia.com/gpu limit (found ${g})`);
      }
      if (!tolerates(workerTmpl.spec?.tolerations)) {
        err(`gpu overlay: ${kind} pods do not tolerate the nvidia.com/gpu NoSchedule taint`);
      }
      if (!gpuSelector(workerTmpl.spec?.nodeSelector)) {
        err(`gpu overlay: ${kind} pods have no nvidia.com/gpu* nodeSelector`);
      }
      const workerImage = workerContainer?.image ?? "";
      if (imageRepo(workerImage) !== "parasol-gpu") {
        err(`gpu overlay: ${kind} image ${workerImage} is not parasol-gpu`);
      }
    }
    if (gpuOf(shardContainer) !== undefined) err("gpu overlay: shards ask for a GPU they never use");
    facts.gpu = `${[...new Set(gpus)].join(", ")} nvidia.com/gpu per worker`;
  } else {
    for (const [kind, tmpl, c] of podKinds) {
      if (gpuOf(c) !== undefined || c?.resources?.requests?.["nvidia.com/gpu"] !== undefined) {
        err(`cpu overlay: ${kind} container asks for nvidia.com/gpu`);
      }
      if (tolerates(tmpl.spec?.tolerations)) err(`cpu overlay: ${kind} pods tolerate GPU taints`);
      if (gpuSelector(tmpl.spec?.nodeSelector)) err(`cpu overlay: ${kind} pods select GPU nodes`);
      const want = kind === "shard" ? "parasol-server" : "parasol";
      if (imageRepo(c?.image ?? "") !== want) err(`cpu overlay: ${kind} image ${c?.image}`);
      if (!c?.resources?.requests?.cpu || !c?.resources?.limits?.cpu) {
        err(`cpu overlay: ${kind} container lacks CPU requests or limits`);
      }
    }
    for (const [kind, , workerContainer] of workerPods) {
      const cpuLimit = quantity(workerContainer?.resources?.limits?.cpu);
      const omp = workerContainer?.env?.find((e) => e.name === "OMP_NUM_THREADS")?.value;
      if (omp !== undefined && Number(omp) > Math.ceil(cpuLimit)) {
        err(`cpu overlay: ${kind}: OMP_NUM_THREADS ${omp} exceeds its CPU limit ${cpuLimit}`);
      }
    }
    facts.gpu = "none";
  }
  return { errors, facts };
}

/**
 * What the JVM gets from the image's launcher: a heap sized from the memory limit, and a JavaCPP
 * cache it can use. With a read-only root filesystem the cache is either on a mounted volume or
 * the image's pre-filled one (docker/Dockerfile unpacks the CPU natives at build time; ND4J
 * reads them without writing). GPU workers unpack the CUDA natives at start: a volume.
 */
function jvmChecks(kind, container, run, env, what, err) {
  if (!run.jvmArgs) return;
  if (!run.jvmArgs.some((a) => /^-XX:(Max|Initial)?RAMPercentage=|^-Xmx/.test(a))) {
    err(`${what}: the JVM's heap is not sized (no -XX:MaxRAMPercentage or -Xmx in JAVA_OPTS)`);
  }
  const caches = run.jvmArgs.filter((a) => a.startsWith("-Dorg.bytedeco.javacpp.cachedir="));
  const cache = caches.length ? caches[caches.length - 1].split("=")[1] : null;
  if (container.securityContext?.readOnlyRootFilesystem !== true || kind === "shard") return;
  const mounts = (container.volumeMounts ?? []).filter((m) => !m.readOnly).map((m) => m.mountPath);
  const onVolume = cache && mounts.some((m) => cache === m || cache.startsWith(m.replace(/\/?$/, "/")));
  if (onVolume) return;
  if (overlay === "gpu") {
    err(`${what}: JavaCPP cache ${cache ?? "(default)"} is on the read-only root filesystem;`
      + " the CUDA natives need a writable volume (PARASOL_JAVACPP_CACHE)");
  } else if (env.PARASOL_JAVACPP_CACHE !== undefined) {
    err(`${what}: PARASOL_JAVACPP_CACHE ${env.PARASOL_JAVACPP_CACHE} is not on a writable volume`);
  }
}

function checkMeta(meta, what, err) {
  for (const [field, values] of [["labels", meta?.labels], ["annotations", meta?.annotations]]) {
    for (const [k, v] of Object.entries(values ?? {})) {
      const [prefix, name] = k.includes("/") ? k.split("/", 2) : [null, k];
      if ((prefix !== null && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253))
        || !LABEL_NAME.test(name) || name.length > 63) {
        err(`${what}: invalid ${field} key ${k}`);
      }
      if (typeof v !== "string") err(`${what}: ${field} ${k} is not a string`);
      else if (field === "labels" && (v.length > 63 || (v !== "" && !LABEL_NAME.test(v)))) {
        err(`${what}: invalid label value ${k}=${v}`);
      }
    }
  }
}

function checkPodSpec(o, tmpl, configMaps, err) {
  const w = id(o);
  const spec = tmpl.spec ?? {};
  checkMeta(tmpl.metadata, `${w} pod template`, err);
  if (o.spec.selector && !labelsMatch(o.spec.selector, tmpl.metadata?.labels)
    && o.kind !== "Job") {
    err(`${w}: selector does not match the pod template's labels`);
  }
  if (o.kind === "StatefulSet" && `${o.metadata.name}-${(o.spec.replicas ?? 1) - 1}`.length > 63) {
    err(`${w}: pod names would exceed 63 characters`);
  }
  if (o.kind === "Job") {
    if (!["Never", "OnFailure"].includes(spec.restartPolicy)) {
      err(`${w}: restartPolicy must be Never or OnFailure`);
    }
    if (o.spec.podFailurePolicy && spec.restartPolicy !== "Never") {
      err(`${w}: podFailurePolicy needs restartPolicy Never`);
    }
    if (o.spec.completionMode === "Indexed" && !Number.isInteger(o.spec.completions)) {
      err(`${w}: an Indexed Job needs completions`);
    }
    if ((o.spec.parallelism ?? 1) > (o.spec.completions ?? 1)) {
      err(`${w}: parallelism exceeds completions`);
    }
  }
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const c of o.spec.volumeClaimTemplates ?? []) volumes.set(c.metadata?.name, { claim: c });
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const names = new Set();
  for (const c of containers) {
    const cw = `${w} container ${c.name}`;
    if (!DNS_LABEL.test(c.name ?? "") || names.has(c.name)) err(`${cw}: invalid or repeated name`);
    names.add(c.name);
    const ports = new Set();
    for (const p of c.ports ?? []) {
      if (p.name !== undefined && (!PORT_NAME.test(p.name) || p.name.length > 15
        || !/[a-z]/.test(p.name) || ports.has(p.name))) {
        err(`${cw}: invalid or repeated port name ${p.name}`);
      }
      ports.add(p.name);
    }
    for (const e of c.env ?? []) if (!ENV_NAME.test(e.name)) err(`${cw}: invalid env name ${e.name}`);
    for (const e of c.envFrom ?? []) {
      const r = e.configMapRef;
      if (r && !r.optional && !configMaps.has(r.name)) err(`${cw}: ConfigMap ${r.name} missing`);
    }
    for (const e of c.env ?? []) {
      const r = e.valueFrom?.configMapKeyRef;
      if (r && !r.optional && configMaps.get(r.name)?.data?.[r.key] === undefined) {
        err(`${cw}: env ${e.name}: ConfigMap ${r.name} key ${r.key} missing`);
      }
    }
    const mounts = new Set();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) err(`${cw}: mounts volume ${m.name}, which is not defined`);
      if (mounts.has(m.mountPath)) err(`${cw}: two mounts at ${m.mountPath}`);
      mounts.add(m.mountPath);
    }
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      const p = c[probe];
      const port = p?.grpc?.port ?? p?.tcpSocket?.port ?? p?.httpGet?.port;
      if (p && port !== undefined && !(c.ports ?? []).some((x) => x.containerPort === port
        || x.name === port)) {
        err(`${cw}: ${probe} port ${port} is not a container port`);
      }
    }
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const [r, l] of Object.entries(lim)) {
      const q = quantity(l);
      if (Number.isNaN(q)) err(`${cw}: limit ${r}=${l} is not a quantity`);
      if (req[r] !== undefined && quantity(req[r]) > q) err(`${cw}: request ${r} exceeds its limit`);
      if (r.includes("/") && !r.startsWith("kubernetes.io/")
        && (!Number.isInteger(q) || (req[r] !== undefined && quantity(req[r]) !== q))) {
        err(`${cw}: extended resource ${r} must be a whole number with request = limit`);
      }
    }
    for (const [r, v] of Object.entries(req)) {
      if (Number.isNaN(quantity(v))) err(`${cw}: request ${r}=${v} is not a quantity`);
    }
    if (spec.containers?.includes(c)) {
      // Policy: non-root, no privilege escalation, read-only root filesystem, memory limits.
      const sc = c.securityContext ?? {};
      if (!(sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot)) err(`${cw}: not runAsNonRoot`);
      if (sc.allowPrivilegeEscalation !== false) err(`${cw}: allowPrivilegeEscalation not false`);
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) err(`${cw}: capabilities not dropped`);
      const seccomp = sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
      if (!["RuntimeDefault", "Localhost"].includes(seccomp)) {
        err(`${cw}: no RuntimeDefault seccomp profile (the namespace enforces "restricted")`);
      }
      if (!lim.memory || !req.memory) err(`${cw}: no memory request and limit`);
      if (sc.readOnlyRootFilesystem === true) {
        // The JVM needs somewhere to write (JavaCPP's cache: see jvmChecks).
        if (!mounts.has("/tmp")) err(`${cw}: read-only root filesystem without a /tmp mount`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations: each must be caught.

function mutationsFor(objs) {
  const find = (k) => objs.find((o) => o.kind === k);
  const jobCm = () => objs.find((o) => o.kind === "ConfigMap" && o.data?.PARASOL_WORKERS);
  const worker = () => find("Job").spec.template.spec.containers[0];
  const list = [
    ["Job completions + 1", () => { find("Job").spec.completions++; }],
    ["Job parallelism - 1", () => { find("Job").spec.parallelism--; }],
    ["PARASOL_WORKERS + 1", () => { jobCm().data.PARASOL_WORKERS = String(Number(jobCm().data.PARASOL_WORKERS) + 1); }],
    ["StatefulSet replicas + 1", () => { find("StatefulSet").spec.replicas++; }],
    ["PARASOL_SHARDS + 1", () => { jobCm().data.PARASOL_SHARDS = String(Number(jobCm().data.PARASOL_SHARDS) + 1); }],
    ["Service port 7071", () => { find("Service").spec.ports[0].port = 7071; }],
    ["Service renamed", () => { find("Service").metadata.name = "parasol-shards"; }],
    ["worker command: wrong service in --servers", () => {
      const c = worker();
      c.command = c.command.map((s) => s.replaceAll(".parasol-shard.", ".parasol-shards."));
    }],
    ["worker flag typo in PARASOL_JOB_FLAGS", () => { jobCm().data.PARASOL_JOB_FLAGS += " --epoch 3"; }],
    ["--workers repeated in PARASOL_JOB_FLAGS", () => { jobCm().data.PARASOL_JOB_FLAGS += " --workers 4"; }],
    ["shard --host dropped", () => {
      const c = find("StatefulSet").spec.template.spec.containers[0];
      c.command = c.command.map((s) => s.replace("--host 0.0.0.0 ", ""));
    }],
    ["grace period too short", () => { find("StatefulSet").spec.template.spec.terminationGracePeriodSeconds = 20; }],
    ["readiness probe on the metrics port", () => {
      const p = find("StatefulSet").spec.template.spec.containers[0].readinessProbe;
      (p.grpc ?? p.tcpSocket).port = 9400;
    }],
    ["unknown field in the pod spec", () => { find("Job").spec.template.spec.tolerationz = []; }],
    ["string where the schema wants an integer", () => { find("Job").spec.backoffLimit = "6"; }],
    ["PodMonitor selects nothing", () => { find("PodMonitor").spec.selector.matchLabels = { app: "x" }; }],
    ["dashboard edited in the k8s copy only", () => {
      const cm = objs.find((o) => o.metadata?.labels?.grafana_dashboard === "1");
      const k = Object.keys(cm.data)[0];
      cm.data[k] = cm.data[k].replace("{", "{ ");
    }],
  ];
  if (withLauncher) {
    list.push(["job flags left for the launcher to append again", () => {
      const c = worker();
      c.command = c.command.map((s) => s.replace("unset PARASOL_JOB_FLAGS", ":"));
    }]);
    list.push(["no heap size for the workers", () => {
      worker().env = worker().env.filter((e) => e.name !== "JAVA_OPTS");
      worker().env.push({ name: "JAVA_OPTS", value: "-XX:+ExitOnOutOfMemoryError" });
    }]);
  }
  const shard = () => find("StatefulSet").spec.template.spec.containers[0];
  list.push(["shards on the worker image", () => { shard().image = "parasol:latest"; }]);
  // A job overlay's Job (the last Job) and its own ConfigMap.
  const jobsOf = () => objs.filter((o) => o.kind === "Job");
  if (jobsOf().length > 1) {
    const last = () => jobsOf().at(-1);
    const lastCm = () => objs.find((o) => o.kind === "ConfigMap" && o.metadata.name
      === last().spec.template.spec.containers[0].envFrom[0].configMapRef.name);
    list.push(["job overlay: the first job's --job again", () => {
      lastCm().data.PARASOL_JOB_FLAGS = lastCm().data.PARASOL_JOB_FLAGS
        .replace(/--job \S+/, `--job ${jobsOf()[0].metadata.name.replace(/^parasol-worker-?/, "") || "default"}`);
    }]);
    list.push(["job overlay: Job not named after its job", () => { last().metadata.name += "-x"; }]);
    list.push(["job overlay: PARASOL_SHARDS + 1", () => {
      lastCm().data.PARASOL_SHARDS = String(Number(lastCm().data.PARASOL_SHARDS) + 1);
    }]);
    list.push(["job overlay: completions + 1", () => { last().spec.completions++; }]);
    list.push(["job overlay: flag typo", () => { lastCm().data.PARASOL_JOB_FLAGS += " --epoch 3"; }]);
  }
  const secure = (c) => (c.env ?? []).some((e) => e.name === "PARASOL_SECURITY_FLAGS");
  if (secure(shard())) {
    list.push(["secure: workers without the TLS and token flags", () => {
      worker().env = worker().env.filter((e) => e.name !== "PARASOL_SECURITY_FLAGS");
    }]);
    list.push(["secure: token Secret not mounted in the workers", () => {
      const w = worker();
      w.volumeMounts = w.volumeMounts.filter((m) => !m.mountPath.includes("token"));
    }]);
    list.push(["secure: the shards' key projected into the workers", () => {
      const v = find("Job").spec.template.spec.volumes.find((x) => x.secret?.items);
      v.secret.items.push({ key: "tls.key", path: "tls.key" });
    }]);
    list.push(["secure: gRPC probe on a TLS shard", () => {
      shard().livenessProbe = { grpc: { port: 7070 }, periodSeconds: 10 };
    }]);
    list.push(["secure: Secret mounted writable", () => {
      shard().volumeMounts.find((m) => m.mountPath.includes("tls")).readOnly = false;
    }]);
  }
  if (overlay === "gpu" && withLauncher) {
    list.push(["gpu: JavaCPP cache on the read-only root", () => {
      worker().env = worker().env.filter((e) => e.name !== "PARASOL_JAVACPP_CACHE");
    }]);
  }
  if (overlay === "gpu") {
    list.push(["gpu: no GPU limit", () => { delete worker().resources.limits["nvidia.com/gpu"]; }]);
    list.push(["gpu: no toleration", () => { delete find("Job").spec.template.spec.tolerations; }]);
    list.push(["gpu: cpu image", () => { worker().image = "parasol:latest"; }]);
  } else {
    list.push(["cpu: a GPU limit", () => { worker().resources.limits["nvidia.com/gpu"] = 1; }]);
    list.push(["cpu: gpu image", () => { worker().image = "parasol-gpu:latest"; }]);
  }
  return list;
}

// ---------------------------------------------------------------------------------------------

/** The objects of one rendered file; exits when it does not parse. */
function load(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const parseErrors = docs.flatMap((d) => d.errors.map((e) => e.message));
  if (parseErrors.length) {
    console.error(`k8s-check: ${title}: ${file}: the rendered YAML does not parse: ${parseErrors[0]}`);
    process.exit(1);
  }
  return docs.map((d) => d.toJS()).filter((o) => o !== null);
}
const objects = load(renderedFile);
// A job overlay adds a job's workers and nothing else: applying it leaves the shards alone.
const jobOverlayErrors = [];
for (const f of jobFiles) {
  const objs = load(f);
  for (const o of objs) {
    if (!["Job", "ConfigMap"].includes(o?.kind)) {
      jobOverlayErrors.push(`job overlay ${f}: ${id(o)}: a job overlay holds only its worker Job and`
        + " ConfigMap (it must not touch the shards)");
    }
  }
  if (!objs.some((o) => o?.kind === "Job")) jobOverlayErrors.push(`job overlay ${f}: no Job`);
  objects.push(...objs);
}
if (jobOverlayErrors.length) {
  console.error(`k8s-check: ${title} [${renderer}]: FAILED:`);
  for (const e of jobOverlayErrors) console.error(`  - ${e}`);
  process.exit(1);
}

const { errors, facts } = await check(objects);
if (errors.length) {
  console.error(`k8s-check: ${title} [${renderer}]: FAILED, ${errors.length} problem(s):`);
  for (const e of errors) console.error(`  - ${e}`);
  process.exit(1);
}

if (mutations) {
  const missed = [];
  const list = mutationsFor(objects);
  for (let i = 0; i < list.length; i++) {
    const copy = structuredClone(objects);
    mutationsFor(copy)[i][1]();
    const r = await check(copy);
    if (r.errors.length === 0) missed.push(list[i][0]);
    if (process.env.K8S_CHECK_VERBOSE) console.log(`  break "${list[i][0]}": ${r.errors.join(" | ")}`);
  }
  if (missed.length) {
    console.error(`k8s-check: ${title}: deliberate breaks that no check caught: ${missed.join("; ")}`);
    process.exit(1);
  }
  facts.mutations = list.length;
}

if (process.env.K8S_CHECK_VERBOSE) {
  console.log(`  shard 0 runs: parasol ${facts.shardArgs?.join(" ")}`);
  console.log(`  worker 0's JVM gets: ${facts.workerJvm?.join(" ") ?? "(no launcher)"}`);
  console.log(`  worker 0 runs: parasol worker ${facts.jobFlags?.join(" ")} (and --worker K)`);
}
const kinds = objects.map((o) => o.kind).join(", ");
console.log(`k8s-check: ${title} [${renderer}]: OK: ${objects.length} objects valid (${kinds});`
  + ` ${facts.shards} shards at ${facts.servers[0].replace(/^[^.]+\./, "*.")},`
  + ` jobs ${facts.jobs.join(", ")} (an indexed Job each); images ${facts.images}; GPU: ${facts.gpu};`
  + (withLauncher ? " through docker/parasol-launcher.sh" : " (no image launcher in docker/: JVM options unchecked)")
  + `; security: ${facts.security}`
  + (facts.mutations ? `; ${facts.mutations}/${facts.mutations} deliberate breaks caught` : ""));
