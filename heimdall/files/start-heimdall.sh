# Starts Heimdall as the image's own cmd.sh does (database migrations, the admin
# seed, then the server), with four differences:
# - the migrations and the seed run behind a PostgreSQL advisory lock, so when
#   several replicas start on one database they run one after the other and
#   none crashes on another's half-made tables (docs/concurrent-migrations.md);
# - node replaces this shell (exec), so the server is PID 1 and gets SIGTERM: a
#   pod stops in about a second instead of waiting out its grace period, and
#   in-flight requests finish (cmd.sh runs under a shell that ignores SIGTERM);
# - the seeder's line that prints the admin password is redacted before it
#   reaches the log; the admin's e-mail line is kept;
# - a failed step runs again (3 tries, 3 s apart) before the start fails: a
#   connection lost on the way (a network blip, a database restarting) would
#   otherwise cost a container restart, and restarts fire alerts.
# Runs in the image's /app/apps/backend (the container's workingDir). $1 is the
# image reference, named when the image is not laid out as mitre/heimdall2 2.x.
set -eu
for required in node_modules/.bin/sequelize node_modules/pg dist/db/database.js dist/src/main.js; do
  if [ ! -e "$required" ]; then
    echo "heimdall chart: $(pwd)/$required is missing in image ${1:-?}. The chart starts Heimdall as mitre/heimdall2 2.x images are laid out; set image.repository and image.tag to a mitre/heimdall2 2.x image (or one built from its Dockerfile)." >&2
    exit 64
  fi
done
# The lock is a session lock of one connection, made with the settings the
# migrations use (dist/db/database.js, which .sequelizerc names) and the pg
# driver Sequelize itself loads. It is held while both steps run and goes with
# the connection, so a replica killed mid-migration never leaves it taken.
# Advisory locks are per database: releases on other databases never wait.
node - <<'MIGRATE_ONCE'
'use strict';
const {spawn} = require('child_process');
const readline = require('readline');
const pg = require('pg');
const db = require('./dist/db/database.js');
// "HEIMDALL" in ASCII, as a bigint: the key every replica of any release agrees on.
const LOCK = '5207098525011296588';
const say = line => console.log('heimdall chart: ' + line);
const fail = (status, line) => { console.error('heimdall chart: ' + line); process.exit(status); };
const redact = line => line.includes('administrator password is:')
  ? 'New administrator password is: (redacted by the Heimdall chart; NOTES says which Secret holds it)' : line;
const sequelize = (step, filter) => new Promise(done => {
  const child = spawn('node_modules/.bin/sequelize', [step], {stdio: ['ignore', 'pipe', 'pipe']});
  readline.createInterface({input: child.stdout}).on('line', l => process.stdout.write(filter(l) + '\n'));
  readline.createInterface({input: child.stderr}).on('line', l => process.stderr.write(filter(l) + '\n'));
  child.on('close', (code, signal) => done(code === null ? 128 + (signal === 'SIGKILL' ? 9 : 15) : code));
});
// A connection lost on the way ("ERROR: Operation timeout" once a connection has hung for Sequelize's
// 60 s) would fire the cluster's restart alerts for what a second try fixes: a failed step runs again,
// up to ATTEMPTS times, PAUSE_S apart, still behind the lock, then stops the start.
const ATTEMPTS = 3;
const PAUSE_S = 3;
const step = async (name, filter, what) => {
  for (let attempt = 1; ; attempt++) {
    const status = await sequelize(name, filter);
    if (status === 0) return;
    if (attempt === ATTEMPTS) fail(status, what + ' failed (exit ' + status + '), ' + ATTEMPTS + ' times; see the lines above');
    say(what + ' failed (exit ' + status + '); trying again in ' + PAUSE_S + ' s (attempt ' + (attempt + 1) + ' of ' + ATTEMPTS + ')');
    await new Promise(ok => setTimeout(ok, PAUSE_S * 1000));
  }
};
const takeLock = async client => {
  const {rows} = await client.query('SELECT pg_try_advisory_lock($1) AS taken', [LOCK]);
  if (rows[0].taken) return;
  const since = Date.now();
  say('another replica is migrating the database; waiting for it (PostgreSQL advisory lock ' + LOCK + ')');
  const still = setInterval(() => say('still waiting for the migration lock, ' + Math.round((Date.now() - since) / 1000) + ' s'), 30000);
  await client.query('SELECT pg_advisory_lock($1)', [LOCK]);
  clearInterval(still);
  say('took the migration lock after ' + ((Date.now() - since) / 1000).toFixed(1) + ' s');
};
(async () => {
  const client = new pg.Client({user: db.username, password: db.password, host: db.host, port: db.port,
    database: db.database, ssl: db.dialectOptions && db.dialectOptions.ssl, keepAlive: true,
    application_name: 'heimdall-chart-migrations'});
  try {
    await client.connect();
    await takeLock(client);
  } catch (e) {
    fail(69, 'could not take the migration lock in PostgreSQL ' + db.host + ':' + db.port + '/' + db.database + ': ' + e.message);
  }
  await step('db:migrate', line => line, 'migrating the database');
  await step('db:seed:all', redact, 'seeding the database');
  await client.end();
})().catch(e => fail(70, 'the migration step failed: ' + e.message));
MIGRATE_ONCE
exec node dist/src/main
