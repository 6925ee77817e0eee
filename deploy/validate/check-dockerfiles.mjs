// Lints deploy/Dockerfile (the relay image) and deploy/tor/Dockerfile without a container engine:
// the stages and base images, the non-root runtime user, apt hygiene, what the relay image must
// contain (libsodium23, the published server, the web intake page with its npm packages), and
// that every file a COPY names exists in the build context and is not excluded by .dockerignore.
// Prints PASS/FAIL per check; exits 1 if any failed.
//
// Usage: node check-dockerfiles.mjs REPOSITORY_ROOT

import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve, relative } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = resolve(process.argv[2] ?? '.');
let failures = 0;
function check(name, fn) {
  const problems = [];
  try {
    fn(problems);
  } catch (error) {
    problems.push(String(error?.message ?? error));
  }
  if (problems.length === 0) {
    console.log(`PASS  dockerfile: ${name}`);
  } else {
    failures++;
    console.log(`FAIL  dockerfile: ${name}`);
    for (const p of problems) console.log(`        ${p}`);
  }
}

// ---- Parsing ------------------------------------------------------------------------------
/** Instructions of a Dockerfile: { keyword, args, line }, continuation lines joined, comments dropped. */
function parseDockerfile(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const instructions = [];
  let current = null;
  lines.forEach((text, index) => {
    const trimmed = text.trim();
    if (current === null && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (current !== null && trimmed.startsWith('#')) return; // comment inside a continued instruction
    const continued = /\\$/.test(trimmed);
    const body = continued ? trimmed.slice(0, -1) : trimmed;
    if (current === null) {
      const m = /^(\S+)\s*(.*)$/.exec(body);
      current = { keyword: m[1].toUpperCase(), args: m[2], line: index + 1 };
    } else {
      current.args += ' ' + body;
    }
    if (!continued) {
      current.args = current.args.trim();
      instructions.push(current);
      current = null;
    }
  });
  return instructions;
}

/** Stages: { from, name, instructions }, with global ARG defaults substituted in FROM. */
function stagesOf(instructions) {
  const args = {};
  const stages = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(ins.args);
      if (m) args[m[1]] = m[2] ?? '';
    } else if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      const image = m[1].replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n) => args[n] ?? '');
      stages.push({ from: image, name: m[2], instructions: [] });
    } else if (stages.length) {
      stages.at(-1).instructions.push(ins);
    }
  }
  return stages;
}

const flagsAndOperands = (args) => {
  const words = args.match(/"[^"]*"|\S+/g) ?? [];
  const flags = words.filter((w) => w.startsWith('--'));
  const operands = words.filter((w) => !w.startsWith('--'));
  return { flags, operands };
};

// ---- .dockerignore (Docker's rules: last matching pattern wins, "!" re-includes, a matched
// directory excludes everything under it, "**" spans directories) ------------------------------
function dockerignoreMatcher(contextDir) {
  const file = join(contextDir, '.dockerignore');
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    : [];
  const compiled = patterns.map((p) => {
    const negate = p.startsWith('!');
    const body = (negate ? p.slice(1) : p).replace(/^\/+/, '').replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === '*' && body[i + 1] === '*') {
        re += body[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += body[i + 2] === '/' ? 2 : 1;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return { negate, re: new RegExp(`^${re}$`) };
  });
  return (path) => {
    const parts = path.split('/');
    let excluded = false;
    for (const { negate, re } of compiled) {
      for (let n = 1; n <= parts.length; n++) {
        if (re.test(parts.slice(0, n).join('/'))) {
          excluded = !negate;
          break;
        }
      }
    }
    return excluded;
  };
}

/** Files under a path of the repository that git tracks or would track (not ignored). */
function repositoryFiles(path) {
  const out = execFileSync('git', ['-c', `safe.directory=${root}`, '-C', root, 'ls-files', '--cached', '--others', '--exclude-standard', '--', path], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).filter((f) => existsSync(join(root, f)));
}

function checkCopySources(stages, contextDir, problems) {
  const excluded = dockerignoreMatcher(contextDir);
  for (const stage of stages) {
    for (const ins of stage.instructions) {
      if (ins.keyword === 'ADD') problems.push(`line ${ins.line}: ADD (use COPY; ADD fetches URLs and unpacks archives)`);
      if (ins.keyword !== 'COPY') continue;
      const { flags, operands } = flagsAndOperands(ins.args);
      if (flags.some((f) => f.startsWith('--from='))) continue;
      for (const source of operands.slice(0, -1)) {
        const full = resolve(contextDir, source);
        const rel = relative(contextDir, full) || '.';
        if (rel.startsWith('..')) {
          problems.push(`line ${ins.line}: ${source} is outside the build context`);
          continue;
        }
        if (!existsSync(full)) {
          problems.push(`line ${ins.line}: ${source} does not exist`);
          continue;
        }
        if (excluded(rel)) problems.push(`line ${ins.line}: ${source} is excluded by .dockerignore`);
        if (statSync(full).isDirectory()) {
          const files = repositoryFiles(relative(root, full));
          if (files.length === 0) problems.push(`line ${ins.line}: ${source} holds no file`);
          for (const f of files) {
            const inContext = relative(contextDir, join(root, f));
            if (excluded(inContext)) problems.push(`line ${ins.line}: ${inContext} (under ${source}) is excluded by .dockerignore`);
          }
        }
      }
    }
  }
}

function checkAptHygiene(stages, problems) {
  for (const stage of stages) {
    for (const ins of stage.instructions) {
      if (ins.keyword !== 'RUN') continue;
      if (/\b(curl|wget)\b[^|;&]*\|\s*(ba)?sh\b/.test(ins.args)) problems.push(`line ${ins.line}: pipes a download into a shell`);
      if (/\bsudo\b/.test(ins.args)) problems.push(`line ${ins.line}: sudo`);
      if (/chmod\s+(-R\s+)?0?777\b/.test(ins.args)) problems.push(`line ${ins.line}: chmod 777`);
      if (!/\bapt-get\s+install\b/.test(ins.args)) continue;
      if (!/--no-install-recommends/.test(ins.args)) problems.push(`line ${ins.line}: apt-get install without --no-install-recommends`);
      if (!/\bapt-get\s+update\b/.test(ins.args)) problems.push(`line ${ins.line}: apt-get install without apt-get update in the same RUN`);
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(ins.args)) problems.push(`line ${ins.line}: apt lists not removed in the same RUN`);
      if (!/\s-y\b|--yes|--assume-yes/.test(ins.args)) problems.push(`line ${ins.line}: apt-get install without -y`);
    }
  }
}

function lastUser(stage) {
  const users = stage.instructions.filter((i) => i.keyword === 'USER');
  return users.length ? users.at(-1).args : undefined;
}
const isRoot = (user) => user === undefined || /^(0|root)(:|$)/.test(user);
const pinned = (image) => /:[^/]+$/.test(image) && !/:latest$/.test(image);
const instr = (stage, keyword) => stage.instructions.filter((i) => i.keyword === keyword);

// ---- deploy/Dockerfile --------------------------------------------------------------------
const relayPath = join(root, 'deploy/Dockerfile');
const relayStages = stagesOf(parseDockerfile(relayPath));
const build = relayStages[0];
const runtime = relayStages.at(-1);

check('relay image: an SDK build stage and an ASP.NET runtime final stage, with pinned tags', (problems) => {
  if (relayStages.length < 2) problems.push(`${relayStages.length} stage(s); expected a build and a runtime stage`);
  if (!/^mcr\.microsoft\.com\/dotnet\/sdk:10\./.test(build?.from ?? '')) problems.push(`first stage is ${build?.from}, not mcr.microsoft.com/dotnet/sdk:10.x`);
  if (!/^mcr\.microsoft\.com\/dotnet\/aspnet:10\./.test(runtime?.from ?? '')) problems.push(`final stage is ${runtime?.from}, not mcr.microsoft.com/dotnet/aspnet:10.x`);
  for (const s of relayStages) if (!pinned(s.from)) problems.push(`${s.from} has no pinned tag`);
});

check('relay image: runs as the fixed non-root user 10001 that owns the data directory', (problems) => {
  const user = lastUser(runtime);
  if (isRoot(user)) problems.push(`final USER is ${user ?? '(none: root)'}`);
  else if (!/^10001(:10001)?$/.test(user)) problems.push(`final USER is ${user}, expected 10001:10001`);
  const runs = instr(runtime, 'RUN').map((i) => i.args).join('\n');
  if (!/install -d -o 10001 -g 10001 -m 0700 \/var\/lib\/coordination/.test(runs)) problems.push('/var/lib/coordination is not created for 10001 with mode 0700');
  if (!/useradd[^\n]*--uid 10001/.test(runs)) problems.push('no user with uid 10001 is created');
});

check('relay image: build stage installs nodejs and npm, runs npm ci and dotnet publish -c Release -o /app', (problems) => {
  const runs = instr(build, 'RUN').map((i) => i.args).join('\n');
  if (!/apt-get install[^\n]*\bnodejs\b[^\n]*\bnpm\b/.test(runs)) problems.push('nodejs and npm are not installed');
  if (!/\bnpm ci\b[^\n]*--ignore-scripts/.test(runs)) problems.push('npm ci (with --ignore-scripts) is not run');
  if (!/dotnet publish src\/Coordination\.Server\S*[^\n]*-c Release[^\n]*-o \/app/.test(runs)) problems.push('dotnet publish src/Coordination.Server -c Release -o /app is not run');
  if (!/\/app\/IntakePage\/web/.test(runs)) problems.push('the web intake page (with node_modules) is not copied to /app/IntakePage/web');
});

check('relay image: runtime installs libsodium23, copies /app, sets the data directory and read-only friendly settings', (problems) => {
  const runs = instr(runtime, 'RUN').map((i) => i.args).join('\n');
  if (!/apt-get install[^\n]*\blibsodium23\b/.test(runs)) problems.push('libsodium23 is not installed');
  if (!instr(runtime, 'COPY').some((i) => /--from=build\s+\/app\s+\/app/.test(i.args))) problems.push('/app is not copied from the build stage');
  const env = instr(runtime, 'ENV').map((i) => i.args).join(' ');
  for (const setting of ['Storage__DataDirectory=/var/lib/coordination', 'DOTNET_EnableDiagnostics=0', 'ASPNETCORE_HTTP_PORTS=8080', 'Logging__Console__FormatterName=json', 'TMPDIR=/tmp']) {
    if (!env.includes(setting)) problems.push(`ENV ${setting} missing`);
  }
  if (/IncludeScopes=true/i.test(env)) problems.push('console log scopes are enabled');
  if (!instr(runtime, 'VOLUME').some((i) => i.args.includes('/var/lib/coordination'))) problems.push('no VOLUME /var/lib/coordination');
  if (!instr(runtime, 'EXPOSE').some((i) => /\b8080\b/.test(i.args))) problems.push('no EXPOSE 8080');
  if (!instr(runtime, 'HEALTHCHECK').some((i) => i.args.includes('/healthz'))) problems.push('no HEALTHCHECK on /healthz');
  const entry = instr(runtime, 'ENTRYPOINT').at(-1);
  if (!entry || !entry.args.startsWith('[')) problems.push('ENTRYPOINT is missing or not in exec form (the relay must get SIGTERM)');
  const userIndex = runtime.instructions.findIndex((i) => i.keyword === 'USER');
  const lateRun = runtime.instructions.findIndex((i, n) => n > userIndex && i.keyword === 'RUN');
  if (userIndex >= 0 && lateRun >= 0) problems.push(`line ${runtime.instructions[lateRun].line}: RUN after USER`);
});

check('relay image: the entry point script exists, is executable and is a POSIX sh script', (problems) => {
  const path = join(root, 'deploy/docker-entrypoint.sh');
  if (!existsSync(path)) {
    problems.push('deploy/docker-entrypoint.sh missing');
    return;
  }
  if ((statSync(path).mode & 0o111) === 0) problems.push('deploy/docker-entrypoint.sh is not executable');
  if (!readFileSync(path, 'utf8').startsWith('#!/bin/sh\n')) problems.push('deploy/docker-entrypoint.sh does not start with #!/bin/sh');
  if (!/exec dotnet \/app\/Coordination\.Server\.dll "\$@"/.test(readFileSync(path, 'utf8'))) problems.push('the entry point does not exec the relay');
});

check('relay image: no ADD, no piped downloads, apt-get with --no-install-recommends and cleaned lists', (problems) => {
  checkAptHygiene(relayStages, problems);
  for (const s of relayStages) for (const i of instr(s, 'ADD')) problems.push(`line ${i.line}: ADD`);
});

check('relay image: every COPY source exists in the context (the repository root) and .dockerignore keeps it', (problems) => {
  checkCopySources(relayStages, root, problems);
});

check('.dockerignore keeps build output, npm packages, data, secrets and the .git folder out of the context', (problems) => {
  const excluded = dockerignoreMatcher(root);
  for (const path of ['.git/config', 'src/Coordination.Server/bin/Release/x.dll', 'src/Coordination.Server/obj/project.assets.json',
    'src/Coordination.Server/IntakePage/web/node_modules/libsodium/package.json', 'data/coordination.db', 'data/intake-pepper.key',
    'deploy/secrets/intake_pepper', 'deploy/tls/privkey.pem', 'deploy/.env', '.test-results/x.trx', 'deploy/validate/node_modules/x']) {
    if (!excluded(path)) problems.push(`${path} would be sent to the builder`);
  }
  for (const path of ['global.json', 'Directory.Build.props', 'Directory.Packages.props', '.editorconfig', 'seeds/intake-flows.json',
    'src/Coordination.Server/IntakePage/web/package-lock.json', 'src/Coordination.Protocol/Receipts/eff-large-wordlist.txt', 'deploy/docker-entrypoint.sh']) {
    if (excluded(path)) problems.push(`${path} is excluded but the build needs it`);
  }
});

// ---- deploy/tor/Dockerfile ----------------------------------------------------------------
const torDir = join(root, 'deploy/tor');
const torStages = stagesOf(parseDockerfile(join(torDir, 'Dockerfile')));
check('tor image: Debian tor with the proof-of-work module, run as debian-tor, keys in a volume', (problems) => {
  const stage = torStages.at(-1);
  if (!/^debian:[a-z]+(-slim)?$/.test(stage.from)) problems.push(`base image ${stage.from} is not a pinned Debian release`);
  const user = lastUser(stage);
  if (isRoot(user)) problems.push(`USER is ${user ?? '(none: root)'}`);
  const runs = instr(stage, 'RUN').map((i) => i.args).join('\n');
  if (!/apt-get install[^\n]*\btor\b/.test(runs)) problems.push('tor is not installed');
  if (!/pow: yes/.test(runs)) problems.push('the build does not insist on the proof-of-work module');
  if (!instr(stage, 'VOLUME').some((i) => i.args.includes('/var/lib/tor'))) problems.push('no VOLUME /var/lib/tor');
  const entry = instr(stage, 'ENTRYPOINT').at(-1);
  if (!entry || !entry.args.startsWith('[') || !entry.args.includes('/etc/tor/torrc')) problems.push('ENTRYPOINT is not tor -f /etc/tor/torrc in exec form');
  checkAptHygiene(torStages, problems);
  checkCopySources(torStages, torDir, problems);
});

process.exit(failures ? 1 : 0);
