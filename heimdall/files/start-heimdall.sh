# Starts Heimdall as the image's own cmd.sh does (database migrations, the admin
# seed, then the server), with three differences:
# - the migrations and the seed run behind a PostgreSQL advisory lock, so when
#   several replicas start on one database they run one after the other and
#   none crashes on another's half-made tables (docs/concurrent-migrations.md);
# - node replaces this shell (exec), so the server is PID 1 and gets SIGTERM: a
#   pod stops in about a second instead of waiting out its grace period, and
#   in-flight requests finish (cmd.sh runs under a shell that ignores SIGTERM);
# - the seeder's line that prints the admin password is redacted before it
#   reaches the log; the admin's e-mail line is kept.
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
  const migrated = await sequelize('db:migrate', line => line);
  if (migrated !== 0) fail(migrated, 'migrating the database failed (exit ' + migrated + '); see the lines above');
  const seeded = await sequelize('db:seed:all', redact);
  if (seeded !== 0) fail(seeded, 'seeding the database failed (exit ' + seeded + '); see the lines above');
  await client.end();
})().catch(e => fail(70, 'the migration step failed: ' + e.message));
MIGRATE_ONCE
exec node dist/src/main
