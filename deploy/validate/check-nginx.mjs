// Checks deploy/nginx/coordination.conf beyond `nginx -t`:
//
//   static   the rules the file must keep (no access log, no request details in the error log, no
//            forwarded client address, headers set once at http level, body limit equal to the
//            relay's, pinned paths matching the relay's routes, hub timeouts, listeners matching
//            torrc and compose.yaml);
//   routing  a real nginx run with the file (upstream addresses, ports and paths rewritten to a
//            temporary directory) in front of two small HTTP servers standing in for relay1 and
//            relay2, which report what they receive: pinning with failover, balancing, stripped
//            headers, WebSocket upgrade, the body limit, /metrics, HSTS, and an error log that
//            stays silent about requests.
//
// Usage: node check-nginx.mjs REPOSITORY_ROOT [--routing NGINX_BINARY WORK_DIRECTORY]
//   WORK_DIRECTORY must hold a throwaway certificate as fullchain.pem and privkey.pem.
// Prints PASS/FAIL per check; exits 1 if any failed.

import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const root = resolve(process.argv[2] ?? '.');
const routingIndex = process.argv.indexOf('--routing');
const confPath = join(root, 'deploy/nginx/coordination.conf');
const confText = readFileSync(confPath, 'utf8');

let failures = 0;
async function check(name, fn) {
  const problems = [];
  try {
    await fn(problems);
  } catch (error) {
    problems.push(String(error?.stack ?? error));
  }
  if (problems.length === 0) {
    console.log(`PASS  nginx: ${name}`);
  } else {
    failures++;
    console.log(`FAIL  nginx: ${name}`);
    for (const p of problems) console.log(`        ${p}`);
  }
}

// ---- A small nginx configuration parser: blocks of directives -------------------------------
function parse(text) {
  const tokens = [];
  const re = /#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#]+)/g;
  let m;
  while ((m = re.exec(text))) {
    if (m[0].startsWith('#')) continue;
    if (m[1] !== undefined || m[2] !== undefined) tokens.push({ word: m[1] ?? m[2], quoted: true });
    else tokens.push({ word: m[3] ?? m[4], quoted: false });
  }
  let i = 0;
  function block() {
    const directives = [];
    let words = [];
    while (i < tokens.length) {
      const t = tokens[i++];
      if (!t.quoted && t.word === ';') {
        directives.push({ name: words[0], args: words.slice(1) });
        words = [];
      } else if (!t.quoted && t.word === '{') {
        directives.push({ name: words[0], args: words.slice(1), block: block() });
        words = [];
      } else if (!t.quoted && t.word === '}') {
        return directives;
      } else {
        words.push(t.word);
      }
    }
    return directives;
  }
  return block();
}

const conf = parse(confText);
const find = (directives, name) => directives.filter((d) => d.name === name);
const one = (directives, name) => find(directives, name)[0];
const httpBlock = one(conf, 'http')?.block ?? [];
const servers = find(httpBlock, 'server').map((s) => s.block);
const tlsServer = servers.find((s) => find(s, 'listen').some((l) => l.args.includes('ssl')));
const onionServer = servers.find((s) => find(s, 'listen').some((l) => /^127\.0\.0\.1:\d+$/.test(l.args[0])));
function walk(directives, visit, path = []) {
  for (const d of directives) {
    visit(d, path);
    if (d.block) walk(d.block, visit, [...path, d]);
  }
}
const sizeOf = (value) => {
  const m = /^(\d+)([kKmM]?)$/.exec(value ?? '');
  return m ? Number(m[1]) * ({ '': 1, k: 1024, K: 1024, m: 1048576, M: 1048576 })[m[2]] : NaN;
};
const seconds = (value) => {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value ?? '');
  return m ? Number(m[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 })[m[2] ?? 's'] : NaN;
};

// Facts from the relay's source that the proxy must agree with.
const limitsText = readFileSync(join(root, 'src/Coordination.Protocol/Limits.cs'), 'utf8');
const maxBodyExpr = /MaxWireMessageBytes\s*=\s*([0-9 *]+);/.exec(limitsText)?.[1];
const maxBody = maxBodyExpr ? maxBodyExpr.split('*').map((n) => Number(n.trim())).reduce((a, b) => a * b, 1) : NaN;
const hubPath = /const string Path = "([^"]+)"/.exec(readFileSync(join(root, 'src/Coordination.Protocol/RelayHubContract.cs'), 'utf8'))?.[1];
const torrc = readFileSync(join(root, 'deploy/tor/torrc'), 'utf8');
const onionTarget = /^HiddenServicePort\s+80\s+(\S+)\s*$/m.exec(torrc)?.[1];
const composeText = readFileSync(join(root, 'deploy/compose.yaml'), 'utf8');
const pinnedPaths = ['/api/v1/auth/', '/api/v1/intakes/', '/api/v1/receipts/', '/intake/'];

// ---- Static checks ------------------------------------------------------------------------
await check('no access log, and no log_format that could record addresses, agents or query strings', (problems) => {
  if (!find(httpBlock, 'access_log').some((d) => d.args[0] === 'off')) problems.push('http has no "access_log off;"');
  walk(conf, (d, path) => {
    if (d.name === 'access_log' && d.args[0] !== 'off') problems.push(`access_log ${d.args.join(' ')} in ${path.map((p) => p.name).join(' > ')}`);
    if (d.name === 'log_format' && /\$(remote_addr|remote_port|realip_remote_addr|http_x_forwarded_for|http_user_agent|http_referer|request|request_uri|args|query_string|arg_)/.test(d.args.join(' '))) {
      problems.push(`log_format ${d.args[0]} records client details`);
    }
  });
});

await check('request errors are not logged (error_log at emerg for http; nothing lower inside it)', (problems) => {
  const httpLog = find(httpBlock, 'error_log');
  if (httpLog.length !== 1 || httpLog[0].args[1] !== 'emerg') problems.push('http must set exactly one "error_log ... emerg;" (request errors carry the client address and request line)');
  walk(httpBlock, (d) => {
    if (d.name === 'error_log' && d.args[1] !== 'emerg') problems.push(`error_log ${d.args.join(' ')} inside http`);
  });
});

await check('no client address reaches the relays: forwarding headers cleared, set once at http level', (problems) => {
  const headers = Object.fromEntries(find(httpBlock, 'proxy_set_header').map((d) => [d.args[0].toLowerCase(), d.args[1]]));
  for (const h of ['x-forwarded-for', 'x-real-ip', 'forwarded', 'x-forwarded-host', 'x-forwarded-proto', 'user-agent', 'referer', 'cookie']) {
    if (headers[h] !== '') problems.push(`proxy_set_header ${h} "" missing`);
  }
  if (headers.host !== '$host') problems.push('proxy_set_header Host $host missing (the relay derives the login origin from it when Relay:PublicOrigin is unset)');
  if (headers.upgrade !== '$http_upgrade' || headers.connection !== '$connection_upgrade') problems.push('Upgrade/Connection are not forwarded for WebSockets');
  if (!find(httpBlock, 'map').some((d) => d.args[0] === '$http_upgrade' && d.args[1] === '$connection_upgrade')) problems.push('no map $http_upgrade $connection_upgrade');
  walk(httpBlock, (d, path) => {
    if (path.length && ['proxy_set_header', 'proxy_pass_request_headers'].includes(d.name)) {
      problems.push(`${d.name} ${d.args.join(' ')} inside ${path.map((p) => `${p.name} ${p.args.join(' ')}`).join(' > ')}: a level that sets headers loses every inherited one`);
    }
    if (d.name === 'real_ip_header' || d.name === 'set_real_ip_from') problems.push(`${d.name} present`);
  });
  if (find(httpBlock, 'proxy_http_version')[0]?.args[0] !== '1.1') problems.push('proxy_http_version 1.1 missing');
});

await check(`body limit equals the relay's (Limits.MaxWireMessageBytes = ${maxBody} bytes), kept in memory; no response spooling to disk`, (problems) => {
  if (!Number.isFinite(maxBody)) problems.push('could not read MaxWireMessageBytes from src/Coordination.Protocol/Limits.cs');
  const size = sizeOf(one(httpBlock, 'client_max_body_size')?.args[0]);
  if (size !== maxBody) problems.push(`client_max_body_size is ${size} bytes`);
  if (!(sizeOf(one(httpBlock, 'client_body_buffer_size')?.args[0]) >= maxBody)) problems.push('client_body_buffer_size is smaller than the body limit (bodies would go to temp files)');
  if (one(httpBlock, 'proxy_max_temp_file_size')?.args[0] !== '0') problems.push('proxy_max_temp_file_size 0 missing');
  if (one(httpBlock, 'server_tokens')?.args[0] !== 'off') problems.push('server_tokens off missing');
});

await check('upstreams: relay_pool least_conn over relay1 and relay2; relay_pinned relay1 with relay2 as backup', (problems) => {
  const upstream = (name) => find(httpBlock, 'upstream').find((u) => u.args[0] === name)?.block ?? [];
  const pool = upstream('relay_pool');
  const pinned = upstream('relay_pinned');
  if (!one(pool, 'least_conn')) problems.push('relay_pool: no least_conn');
  const servers = (u) => find(u, 'server').map((s) => `${s.args[0]}${s.args.includes('backup') ? ' backup' : ''}`);
  if (JSON.stringify(servers(pool)) !== JSON.stringify(['relay1:8080', 'relay2:8080'])) problems.push(`relay_pool servers: ${servers(pool).join(', ')}`);
  if (JSON.stringify(servers(pinned)) !== JSON.stringify(['relay1:8080', 'relay2:8080 backup'])) problems.push(`relay_pinned servers: ${servers(pinned).join(', ')}`);
  if (one(pinned, 'least_conn') || one(pinned, 'hash') || one(pinned, 'ip_hash')) problems.push('relay_pinned must not balance (and must not hash client addresses)');
});

await check(`both servers route alike: pinned paths, the hub (${hubPath}) with long timeouts, /metrics closed, the rest balanced`, (problems) => {
  if (!tlsServer) problems.push('no TLS server (listen ... ssl)');
  if (!onionServer) problems.push('no onion server (listen 127.0.0.1:PORT)');
  const relaySource = [
    'src/Coordination.Server/Auth/AuthEndpoints.cs', 'src/Coordination.Server/Intake/IntakeEndpoints.cs', 'src/Coordination.Server/IntakePage/IntakePageEndpoints.cs',
  ].map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
  for (const path of pinnedPaths) {
    if (!relaySource.includes(`"${path.replace(/\/$/, '')}`)) problems.push(`the relay no longer maps ${path}: review the pinned paths`);
  }
  for (const [label, server] of [['TLS', tlsServer], ['onion', onionServer]]) {
    if (!server) continue;
    const locations = Object.fromEntries(find(server, 'location').map((l) => [l.args.join(' '), l.block]));
    for (const path of pinnedPaths) {
      if (one(locations[path] ?? [], 'proxy_pass')?.args[0] !== 'http://relay_pinned') problems.push(`${label}: location ${path} does not go to relay_pinned`);
    }
    const hubLocation = Object.entries(locations).find(([p]) => !p.startsWith('=') && hubPath?.startsWith(p) && p !== '/');
    if (!hubLocation) problems.push(`${label}: no location for ${hubPath}`);
    else {
      const [p, block] = hubLocation;
      if (one(block, 'proxy_pass')?.args[0] !== 'http://relay_pool') problems.push(`${label}: location ${p} does not go to relay_pool`);
      // The relay drops a client silent for 30 s and pings every 15 s: the proxy must wait longer.
      for (const t of ['proxy_read_timeout', 'proxy_send_timeout']) {
        if (!(seconds(one(block, t)?.args[0]) >= 60)) problems.push(`${label}: ${t} in location ${p} is shorter than 60 s`);
      }
    }
    if (one(locations['/'] ?? [], 'proxy_pass')?.args[0] !== 'http://relay_pool') problems.push(`${label}: location / does not go to relay_pool`);
    if (one(locations['= /metrics'] ?? [], 'return')?.args[0] !== '404') problems.push(`${label}: /metrics is not closed (return 404)`);
  }
  if (tlsServer && onionServer) {
    const names = (s) => find(s, 'location').map((l) => l.args.join(' ')).sort().join(', ');
    if (names(tlsServer) !== names(onionServer)) problems.push(`the servers' locations differ: TLS [${names(tlsServer)}] onion [${names(onionServer)}]`);
  }
});

await check('listeners agree with torrc and compose.yaml; writable paths are under /tmp (read-only root)', (problems) => {
  const onionListen = onionServer ? one(onionServer, 'listen').args[0] : undefined;
  if (onionTarget !== onionListen) problems.push(`torrc forwards to ${onionTarget}, nginx listens on ${onionListen}`);
  if (!composeText.includes(`http://${onionListen}/healthz`)) problems.push(`compose.yaml's proxy healthcheck does not use http://${onionListen}/healthz`);
  const tlsListen = tlsServer ? one(tlsServer, 'listen').args[0] : undefined;
  if (!new RegExp(`:${tlsListen}"`).test(composeText)) problems.push(`compose.yaml does not publish the TLS listener ${tlsListen}`);
  if (!(one(conf, 'pid')?.args[0] ?? '').startsWith('/tmp/')) problems.push('pid is not under /tmp');
  for (const d of ['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path']) {
    if (!(one(httpBlock, d)?.args[0] ?? '').startsWith('/tmp/')) problems.push(`${d} is not under /tmp`);
  }
  if (tlsServer && !find(tlsServer, 'add_header').some((h) => h.args[0] === 'Strict-Transport-Security')) problems.push('TLS server sends no Strict-Transport-Security');
  if (one(conf, 'user')) problems.push('a user directive (the proxy runs unprivileged)');
});

// ---- Routing: a real nginx in front of two reporting servers --------------------------------
if (routingIndex > 0) {
  const nginxBinary = process.argv[routingIndex + 1];
  const work = resolve(process.argv[routingIndex + 2]);
  const freePort = () => new Promise((ok, fail) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });

  // The stand-in relays: report node, path, headers and body length; accept a WebSocket upgrade.
  const seen = [];
  function standIn(node, port) {
    const server = http.createServer((req, res) => {
      let length = 0;
      req.on('data', (c) => { length += c.length; });
      req.on('end', () => {
        seen.push({ node, url: req.url, headers: req.headers, length });
        res.writeHead(200, { 'content-type': 'application/json', 'x-node': String(node) });
        res.end(JSON.stringify({ node, length }));
      });
    });
    server.on('upgrade', (req, socket) => {
      seen.push({ node, url: req.url, headers: req.headers, upgrade: true });
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Node: ${node}\r\n\r\n`);
    });
    return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
  }

  const [relay1Port, relay2Port, tlsPort, onionPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const relay1 = await standIn(1, relay1Port);
  const relay2 = await standIn(2, relay2Port);

  // The same file with the addresses and paths of this machine.
  const rewritten = confText
    .replaceAll('relay1:8080', `127.0.0.1:${relay1Port}`)
    .replaceAll('relay2:8080', `127.0.0.1:${relay2Port}`)
    .replace(/listen 8443 ssl/g, `listen 127.0.0.1:${tlsPort} ssl`)
    .replace(/listen 127\.0\.0\.1:8081;/g, `listen 127.0.0.1:${onionPort};`)
    .replaceAll('/etc/nginx/tls/', `${work}/`)
    .replace(/\/tmp\/nginx/g, `${work}/nginx`);
  writeFileSync(join(work, 'nginx.conf'), rewritten);
  let nginxErr = '';
  const nginx = spawn(nginxBinary, ['-e', 'stderr', '-p', work, '-c', join(work, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.stdout.on('data', (d) => { nginxErr += d; });
  nginx.stderr.on('data', (d) => { nginxErr += d; });
  let nginxExited = false;
  nginx.on('exit', () => { nginxExited = true; });

  const agent = new http.Agent({ keepAlive: false });
  function request(listener, method, path, { headers = {}, body } = {}) {
    const mod = listener === 'tls' ? https : http;
    const port = listener === 'tls' ? tlsPort : onionPort;
    return new Promise((ok, fail) => {
      const req = mod.request({ host: '127.0.0.1', port, method, path, headers: { host: listener === 'tls' ? 'relay.example' : 'example.onion', ...headers }, rejectUnauthorized: false, agent: listener === 'tls' ? undefined : agent }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => ok({ status: res.statusCode, headers: res.headers, text }));
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        ok({ status: res.statusCode, headers: res.headers, text: '' });
      });
      req.on('error', fail);
      req.setTimeout(10000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      if (body) req.write(body);
      req.end();
    });
  }
  const nodeOf = (r) => Number(r.headers['x-node']);

  // Wait for nginx to listen.
  for (let n = 0; n < 50 && !nginxExited; n++) {
    try {
      await request('onion', 'GET', '/healthz');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  await check('routing: nginx starts with the file (addresses and paths rewritten)', (problems) => {
    if (nginxExited) problems.push(`nginx exited: ${nginxErr.trim()}`);
  });

  if (!nginxExited) {
    for (const listener of ['tls', 'onion']) {
      await check(`routing (${listener}): pinned paths always reach relay1`, async (problems) => {
        for (const [method, path] of [['POST', '/api/v1/auth/challenges'], ['POST', '/api/v1/intakes/7d1f2f6e-0000-4000-8000-000000000001/challenges'], ['POST', '/api/v1/receipts/replies'], ['GET', '/intake/7d1f2f6e-0000-4000-8000-000000000001'], ['GET', '/intake/assets/intake.js']]) {
          for (let n = 0; n < 3; n++) {
            const r = await request(listener, method, path, { body: method === 'POST' ? '{}' : undefined });
            if (r.status !== 200 || nodeOf(r) !== 1) problems.push(`${method} ${path} -> ${r.status} node ${nodeOf(r)}`);
          }
        }
      });

      await check(`routing (${listener}): other paths are spread over relay1 and relay2`, async (problems) => {
        const nodes = new Set();
        for (let n = 0; n < 6; n++) nodes.add(nodeOf(await request(listener, 'GET', '/api/v1/inbox/?limit=10')));
        if (!(nodes.has(1) && nodes.has(2))) problems.push(`only node(s) ${[...nodes].join(', ')} answered`);
      });

      await check(`routing (${listener}): the relays receive no client address, user agent, referer or cookie, and the client's Host`, async (problems) => {
        seen.length = 0;
        await request(listener, 'GET', '/api/v1/cells/', {
          headers: { 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '203.0.113.7', forwarded: 'for=203.0.113.7', 'user-agent': 'Agent/1.0', referer: 'https://elsewhere.example/', cookie: 'a=b', 'x-forwarded-proto': 'http' },
        });
        const h = seen.at(-1)?.headers ?? {};
        for (const name of ['x-forwarded-for', 'x-real-ip', 'forwarded', 'user-agent', 'referer', 'cookie', 'x-forwarded-proto', 'x-forwarded-host', 'via']) {
          if (name in h) problems.push(`relay received ${name}: ${h[name]}`);
        }
        if (JSON.stringify(h).includes('203.0.113.7')) problems.push('the client address reached the relay');
        const expectedHost = listener === 'tls' ? 'relay.example' : 'example.onion';
        if (h.host !== expectedHost) problems.push(`relay received Host ${h.host}, expected ${expectedHost}`);
        if (/upgrade/i.test(h.connection ?? '')) problems.push('a plain request was sent with Connection: upgrade');
      });

      await check(`routing (${listener}): the hub's WebSocket upgrade is forwarded`, async (problems) => {
        seen.length = 0;
        const r = await request(listener, 'GET', `${hubPath}?access_token=abc`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
        if (r.status !== 101) problems.push(`status ${r.status}, expected 101`);
        const up = seen.find((s) => s.upgrade);
        if (!up) problems.push('the relay saw no upgrade request');
        else if (up.headers.upgrade !== 'websocket' || !/upgrade/i.test(up.headers.connection ?? '')) problems.push(`relay got Upgrade=${up.headers.upgrade} Connection=${up.headers.connection}`);
      });

      await check(`routing (${listener}): bodies up to ${maxBody} bytes pass, larger ones get 413 at the proxy`, async (problems) => {
        const ok = await request(listener, 'POST', '/api/v1/inbox/acks', { body: Buffer.alloc(maxBody, 1), headers: { 'content-type': 'application/octet-stream' } });
        if (ok.status !== 200 || JSON.parse(ok.text).length !== maxBody) problems.push(`${maxBody} bytes -> ${ok.status} ${ok.text}`);
        const big = await request(listener, 'POST', '/api/v1/inbox/acks', { body: Buffer.alloc(maxBody + 1, 1), headers: { 'content-type': 'application/octet-stream' } });
        if (big.status !== 413) problems.push(`${maxBody + 1} bytes -> ${big.status}`);
      });

      await check(`routing (${listener}): /metrics answers 404 at the proxy; Server header without version`, async (problems) => {
        seen.length = 0;
        const r = await request(listener, 'GET', '/metrics', { headers: { authorization: 'Bearer x' } });
        if (r.status !== 404) problems.push(`status ${r.status}`);
        if (seen.length) problems.push('the request reached a relay');
        if (r.headers.server !== 'nginx') problems.push(`Server: ${r.headers.server}`);
      });
    }

    await check('routing: HSTS on the TLS listener only', async (problems) => {
      const tls = await request('tls', 'GET', '/healthz');
      const onion = await request('onion', 'GET', '/healthz');
      if (!tls.headers['strict-transport-security']) problems.push('no Strict-Transport-Security over TLS');
      if (onion.headers['strict-transport-security']) problems.push('Strict-Transport-Security on the onion listener');
    });

    await check('routing: with relay1 down, pinned paths fail over to relay2', async (problems) => {
      await new Promise((ok) => relay1.close(ok));
      relay1.closeAllConnections?.();
      for (let n = 0; n < 3; n++) {
        const r = await request('onion', 'POST', '/api/v1/auth/challenges', { body: '{}' });
        if (r.status !== 200 || nodeOf(r) !== 2) problems.push(`POST /api/v1/auth/challenges -> ${r.status} node ${nodeOf(r)}`);
      }
    });

    await check('routing: with both relays down the client gets 502 and the error log says nothing about the request', async (problems) => {
      await new Promise((ok) => relay2.close(ok));
      relay2.closeAllConnections?.();
      nginxErr = '';
      const r = await request('tls', 'GET', '/intake/secret-intake-id?access_token=secret-token', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      if (r.status !== 502) problems.push(`status ${r.status}`);
      await new Promise((ok) => setTimeout(ok, 200));
      for (const leak of ['client:', '127.0.0.1', 'secret-intake-id', 'secret-token', 'request:']) {
        if (nginxErr.includes(leak)) problems.push(`the error log contains "${leak}": ${nginxErr.trim().split('\n')[0]}`);
      }
    });
  }

  nginx.kill('SIGQUIT');
  await new Promise((ok) => (nginxExited ? ok() : nginx.on('exit', ok)));
  relay1.close();
  relay2.close();
}

process.exit(failures ? 1 : 0);
