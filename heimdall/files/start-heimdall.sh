# Starts Heimdall as the image's own cmd.sh does (database migrations, the admin
# seed, then the server), with two differences:
# - node replaces this shell (exec), so the server is PID 1 and gets SIGTERM: a
#   pod stops in about a second instead of waiting out its grace period, and
#   in-flight requests finish (cmd.sh runs under a shell that ignores SIGTERM);
# - the seeder's line that prints the admin password is redacted before it
#   reaches the log; the admin's e-mail line is kept.
# Runs in the image's /app/apps/backend (the container's workingDir). $1 is the
# image reference, named when the image is not laid out as mitre/heimdall2 2.x.
set -eu
for required in node_modules/.bin/sequelize dist/src/main.js; do
  if [ ! -e "$required" ]; then
    echo "heimdall chart: $(pwd)/$required is missing in image ${1:-?}. The chart starts Heimdall as mitre/heimdall2 2.x images are laid out; set image.repository and image.tag to a mitre/heimdall2 2.x image (or one built from its Dockerfile)." >&2
    exit 64
  fi
done
node_modules/.bin/sequelize db:migrate
seed_status=0
seed_log=$(node_modules/.bin/sequelize db:seed:all 2>&1) || seed_status=$?
printf '%s\n' "$seed_log" | while IFS= read -r line; do
  case $line in
    *"administrator password is:"*)
      echo "New administrator password is: (redacted by the Heimdall chart; NOTES says which Secret holds it)" ;;
    *) printf '%s\n' "$line" ;;
  esac
done
if [ "$seed_status" -ne 0 ]; then
  echo "heimdall chart: seeding the database failed (exit $seed_status); see the lines above" >&2
  exit "$seed_status"
fi
exec node dist/src/main
