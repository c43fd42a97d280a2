// Heimdall secrets generator: run by the chart's pre-install/pre-upgrade hook
// Job (Argo CD: PreSync) with `node` from the Heimdall image. It makes sure
// every key in GENERATE_KEYS exists in Secret GENERATED_SECRET, creating only
// the absent ones and never touching a present one, so a secret keeps its
// value however often, and by whatever tool, the chart is rendered.
//
// Absent keys are copied from SEED_SECRET when it holds them (the chart's own
// Secret, where releases of older chart versions stored their generated
// values), otherwise drawn from crypto.randomBytes in the documented shapes.
// Keys are added by server-side apply with a field manager unique to this run
// and without force: a concurrent run that set the same key first makes the
// apply fail with 409 Conflict, and this run then re-reads and keeps its value.
//
// Values never reach the log: only key names and counts do.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const path = require('path');

const SHAPES = {
  JWT_SECRET: () => crypto.randomBytes(64).toString('hex'),
  API_KEY_SECRET: () => crypto.randomBytes(33).toString('hex'),
  DATABASE_PASSWORD: () => crypto.randomBytes(33).toString('hex'),
  ADMIN_PASSWORD: () => 'Admin_' + crypto.randomBytes(16).toString('hex'),
};
const ATTEMPTS = 5;

class Refusal extends Error {}

function setting(name) {
  const value = process.env[name];
  if (!value) throw new Refusal(`environment variable ${name} is not set; the chart's Job sets it, so run this script only from that Job`);
  return value;
}

function readConfig() {
  const keys = setting('GENERATE_KEYS').split(',').filter(Boolean);
  const unknown = keys.filter((k) => !SHAPES[k]);
  if (unknown.length) {
    throw new Refusal(`GENERATE_KEYS names ${unknown.join(', ')}, which this generator has no shape for (known: ${Object.keys(SHAPES).join(', ')})`);
  }
  const accountDir = process.env.SERVICEACCOUNT_DIR || '/var/run/secrets/kubernetes.io/serviceaccount';
  const read = (file) => {
    try {
      return fs.readFileSync(path.join(accountDir, file), 'utf8').trim();
    } catch (e) {
      throw new Refusal(`cannot read ${path.join(accountDir, file)} (${e.code}): the Job's pod must mount its ServiceAccount token (automountServiceAccountToken: true)`);
    }
  };
  return {
    keys,
    namespace: setting('NAMESPACE'),
    secret: setting('GENERATED_SECRET'),
    seed: process.env.SEED_SECRET || '',
    labels: JSON.parse(process.env.GENERATED_SECRET_LABELS || '{}'),
    host: setting('KUBERNETES_SERVICE_HOST'),
    port: setting('KUBERNETES_SERVICE_PORT'),
    token: read('token'),
    ca: read('ca.crt'),
  };
}

function request(cfg, method, urlPath, body, contentType) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: cfg.host,
        port: cfg.port,
        method,
        path: urlPath,
        ca: cfg.ca,
        timeout: 30000,
        headers: {
          Authorization: `Bearer ${cfg.token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': contentType }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          let json = null;
          try {
            json = JSON.parse(text);
          } catch (_) {
            // Reported below with the status.
          }
          resolve({ status: res.statusCode, json, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from the API server within 30 s (${method} ${urlPath})`)));
    req.on('error', (e) => reject(new Refusal(`cannot reach the API server at ${cfg.host}:${cfg.port}: ${e.message}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function secretPath(cfg, name) {
  return `/api/v1/namespaces/${encodeURIComponent(cfg.namespace)}/secrets/${encodeURIComponent(name)}`;
}

function refusal(cfg, what, name, answer) {
  const message = (answer.json && answer.json.message) || answer.text.slice(0, 300);
  const hint =
    answer.status === 403
      ? ` The chart's Role for this Job grants create/get/patch on Secret ${cfg.secret} and get on ${cfg.seed || 'no other Secret'}; check that it and its RoleBinding exist.`
      : '';
  return new Refusal(`${what} Secret ${name} in namespace ${cfg.namespace} failed with HTTP ${answer.status}: ${message}.${hint}`);
}

// The Secret's data (key -> base64), or null when it does not exist.
async function readSecret(cfg, name) {
  const answer = await request(cfg, 'GET', secretPath(cfg, name));
  if (answer.status === 404) return null;
  if (answer.status !== 200) throw refusal(cfg, 'reading', name, answer);
  return (answer.json && answer.json.data) || {};
}

async function absentValues(cfg, absent) {
  const seed = cfg.seed ? await readSecret(cfg, cfg.seed) : null;
  const values = {};
  const origin = { copied: [], generated: [] };
  for (const key of absent) {
    if (seed && seed[key]) {
      values[key] = seed[key];
      origin.copied.push(key);
    } else {
      values[key] = Buffer.from(SHAPES[key](), 'utf8').toString('base64');
      origin.generated.push(key);
    }
  }
  return { values, origin };
}

async function applyAbsent(cfg, values) {
  const manager = `heimdall-secrets-generator-${crypto.randomBytes(6).toString('hex')}`;
  const body = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: cfg.secret, namespace: cfg.namespace, labels: cfg.labels },
    type: 'Opaque',
    data: values,
  });
  const query = `?fieldManager=${manager}`;
  return request(cfg, 'PATCH', secretPath(cfg, cfg.secret) + query, body, 'application/apply-patch+yaml');
}

async function ensureKeys(cfg) {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const present = (await readSecret(cfg, cfg.secret)) || {};
    const absent = cfg.keys.filter((k) => !present[k]);
    if (!absent.length) {
      console.log(`Secret ${cfg.secret}: all ${cfg.keys.length} keys present (${cfg.keys.join(', ')}); nothing changed`);
      return;
    }
    const { values, origin } = await absentValues(cfg, absent);
    const answer = await applyAbsent(cfg, values);
    if (answer.status === 409) {
      console.log(`Secret ${cfg.secret}: another run set ${absent.join(', ')} first (409 Conflict); re-reading (attempt ${attempt} of ${ATTEMPTS})`);
      continue;
    }
    if (answer.status !== 200 && answer.status !== 201) throw refusal(cfg, 'applying keys to', cfg.secret, answer);
    const what = [];
    if (origin.copied.length) what.push(`copied from Secret ${cfg.seed}: ${origin.copied.join(', ')}`);
    if (origin.generated.length) what.push(`generated: ${origin.generated.join(', ')}`);
    console.log(`Secret ${cfg.secret}: ${what.join('; ')}`);
    return;
  }
  throw new Refusal(`Secret ${cfg.secret}: keys still absent after ${ATTEMPTS} attempts; another writer keeps conflicting`);
}

async function main() {
  const cfg = readConfig();
  await ensureKeys(cfg);
  const after = (await readSecret(cfg, cfg.secret)) || {};
  const still = cfg.keys.filter((k) => !after[k]);
  if (still.length) throw new Refusal(`Secret ${cfg.secret} lacks ${still.join(', ')} after the apply; nothing else should remove keys from it`);
}

main().catch((e) => {
  console.error(`heimdall secrets generator: ${e instanceof Refusal ? e.message : e.stack}`);
  process.exit(1);
});
