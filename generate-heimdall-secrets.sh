#!/usr/bin/env bash
# Writes heimdall/env/heimdall-secrets.yaml with cryptographically random
# values (openssl rand), for the chart's file-based secrets approach. The file
# is gitignored and created with mode 0600. Run with --help for the options.
set -euo pipefail
umask 077

readonly REQUIRED_KEYS=(JWT_SECRET API_KEY_SECRET DATABASE_PASSWORD ADMIN_PASSWORD)
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
output="$script_dir/heimdall/env/heimdall-secrets.yaml"
mode=write

usage() {
  cat <<'EOF'
Usage: generate-heimdall-secrets.sh [--force] [--output PATH] [--check] [--help]

Writes heimdall/env/heimdall-secrets.yaml (next to this script, from any
working directory) for the Heimdall chart's file-based secrets:

  JWT_SECRET         128 hex characters (openssl rand -hex 64)
  API_KEY_SECRET      66 hex characters (openssl rand -hex 33)
  DATABASE_PASSWORD   66 hex characters (openssl rand -hex 33)
  ADMIN_PASSWORD      Admin_ + 32 hex characters

followed by commented examples of the optional secrets Heimdall reads.

By default it is idempotent: keys already in the file keep their values byte
for byte, missing keys are added, and a complete file is left untouched.

  --force        regenerate the four required keys in place, keeping every
                 other line (rotates them: an installed embedded database
                 keeps its old password, see the chart docs)
  --output PATH  write PATH instead of heimdall/env/heimdall-secrets.yaml
  --check        validate an existing file instead of writing: the flat YAML
                 the chart accepts, the four required keys, their lengths and
                 mode 0600; exits 1 naming each problem
  --help         this text

Safety: the file is created 0600 from its first byte (umask 077, a temporary
file in the same folder, then an atomic rename); a file with wider permissions
is tightened and reported. It refuses to write through a symlink and, inside a
git checkout, to a path git does not ignore. It never prints a secret value.
EOF
}

die() { echo "generate-heimdall-secrets.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --force) mode=force ;;
    --check) mode=check ;;
    --output)
      [ $# -ge 2 ] && [ -n "$2" ] || die "--output needs a path"
      output=$2; shift ;;
    --output=*) output=${1#--output=}; [ -n "$output" ] || die "--output needs a path" ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

command -v openssl >/dev/null 2>&1 || [ "$mode" = check ] || die "openssl is required (apt-get install openssl)"

min_length() {
  case "$1" in
    JWT_SECRET) echo 64 ;; API_KEY_SECRET) echo 33 ;; DATABASE_PASSWORD) echo 16 ;; ADMIN_PASSWORD) echo 15 ;;
  esac
}

generate() {
  case "$1" in
    JWT_SECRET) openssl rand -hex 64 ;;
    ADMIN_PASSWORD) printf 'Admin_%s\n' "$(openssl rand -hex 16)" ;;
    *) openssl rand -hex 33 ;;
  esac
}

file_mode() { stat -c '%a' "$1" 2>/dev/null || stat -f '%Lp' "$1"; }

# The value of KEY in FILE, unquoted, for the flat "KEY: value" lines this
# script writes ("" when absent). Block scalars count as present ("|").
value_of() {
  local key=$1 file=$2 line v
  line=$(grep -E "^${key}:" "$file" | head -n 1 || true)
  [ -n "$line" ] || return 0
  v=${line#"${key}:"}
  v=${v#"${v%%[![:space:]]*}"}
  case "$v" in
    \"*) v=${v#\"}; v=${v%%\"*} ;;
    \'*) v=${v#\'}; v=${v%%\'*} ;;
    *) v=${v%%[[:space:]]#*}; v=${v%"${v##*[![:space:]]}"} ;;
  esac
  printf '%s' "$v"
}

check_file() {
  local file=$1 problems=0 n=0 line key v len perm in_block=0
  [ -e "$file" ] || die "$file does not exist (run without --check to create it)"
  [ -L "$file" ] && { echo "problem: $file is a symlink"; problems=$((problems + 1)); }
  perm=$(file_mode "$file")
  [ "$perm" = 600 ] || { echo "problem: $file has mode $perm, not 600 (chmod 600 $file)"; problems=$((problems + 1)); }
  # The flat YAML the chart accepts: comments, blank lines, KEY: scalar, KEY: | with indented lines.
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    if [ "$in_block" = 1 ] && { [ -z "$line" ] || [[ "$line" == [[:space:]]* ]]; }; then continue; fi
    in_block=0
    [[ -z "${line//[[:space:]]/}" || "$line" == \#* ]] && continue
    if [[ "$line" =~ ^([A-Z_][A-Z0-9_]*):[[:space:]]*[\|\>][-+]?[[:space:]]*$ ]]; then in_block=1; continue; fi
    if [[ "$line" =~ ^([A-Z_][A-Z0-9_]*):[[:space:]]+(\"[^\"]*\"|\'[^\']*\'|[^\"\'[:space:]#][^#]*)([[:space:]]+#.*)?$ ]]; then continue; fi
    echo "problem: $file line $n is not 'KEY: value' with KEY an upper-case environment-variable name"
    problems=$((problems + 1))
  done < "$file"
  for key in "${REQUIRED_KEYS[@]}"; do
    if ! grep -qE "^${key}:" "$file"; then
      echo "problem: $key is missing"; problems=$((problems + 1)); continue
    fi
    v=$(value_of "$key" "$file")
    len=${#v}
    if [ "$len" -lt "$(min_length "$key")" ]; then
      echo "problem: $key is $len characters; at least $(min_length "$key") are required"; problems=$((problems + 1))
    fi
    if [ "$key" = ADMIN_PASSWORD ] && [ "$(printf '%s' "$v" | LC_ALL=C wc -c)" -gt 72 ]; then
      echo "problem: ADMIN_PASSWORD is over 72 bytes"; problems=$((problems + 1))
    fi
  done
  if [ "$problems" -gt 0 ]; then
    echo "$file: $problems problem(s)" >&2
    exit 1
  fi
  echo "$file: ok (4 required keys, mode 600)"
}

if [ "$mode" = check ]; then
  check_file "$output"
  exit 0
fi

dir=$(dirname -- "$output")
[ -L "$output" ] && die "refusing to write through the symlink $output (remove it or choose --output)"
mkdir -p -- "$dir" 2>/dev/null || die "cannot create the folder $dir"
[ -w "$dir" ] || die "cannot write to the folder $dir (permission denied)"
[ -d "$output" ] && die "$output is a folder"

# Inside a git checkout, the target must be ignored, or a secret could be committed.
if git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if ! git -C "$dir" check-ignore -q -- "$(cd "$dir" && pwd -P)/$(basename -- "$output")"; then
    die "refusing to write $output: git does not ignore it, so the secrets could be committed. Add it to .gitignore, or write outside the repository with --output"
  fi
fi

if [ -e "$output" ]; then
  perm=$(file_mode "$output")
  if [ "$perm" != 600 ]; then
    chmod 600 -- "$output"
    echo "tightened the mode of $output from $perm to 600"
  fi
fi

tmp=$(mktemp "$dir/.heimdall-secrets.XXXXXX" 2>/dev/null) || die "cannot create a temporary file in $dir (permission denied?)"
trap 'rm -f -- "$tmp"' EXIT

is_required() { case "$1" in JWT_SECRET|API_KEY_SECRET|DATABASE_PASSWORD|ADMIN_PASSWORD) return 0 ;; esac; return 1; }

added=()
if [ "$mode" = force ] && [ -e "$output" ]; then
  # Replace each required key's line; comments and optional keys stay as they are.
  while IFS= read -r line || [ -n "$line" ]; do
    key=${line%%:*}
    if [[ "$line" =~ ^[A-Z_][A-Z0-9_]*: ]] && is_required "$key"; then
      printf '%s: "%s"\n' "$key" "$(generate "$key")"
      added+=("$key")
    else
      printf '%s\n' "$line"
    fi
  done < "$output" > "$tmp"
  for key in "${REQUIRED_KEYS[@]}"; do
    grep -qE "^${key}:" "$tmp" || { printf '%s: "%s"\n' "$key" "$(generate "$key")" >> "$tmp"; added+=("$key"); }
  done
elif [ "$mode" = write ] && [ -e "$output" ]; then
  for key in "${REQUIRED_KEYS[@]}"; do
    grep -qE "^${key}:" "$output" || added+=("$key")
  done
  if [ ${#added[@]} -eq 0 ]; then
    echo "$output already holds every required key; left unchanged"
    exit 0
  fi
  cat -- "$output" > "$tmp"
  # A file without a final newline must not glue the new key to its last line.
  [ -z "$(tail -c 1 -- "$tmp")" ] || printf '\n' >> "$tmp"
  for key in "${added[@]}"; do
    printf '%s: "%s"\n' "$key" "$(generate "$key")" >> "$tmp"
  done
else
  added=("${REQUIRED_KEYS[@]}")
  {
    echo "# Heimdall secrets, written by generate-heimdall-secrets.sh. Never commit this file."
    echo "# The chart reads it (heimdall.secretsFiles) as YAML: keep values quoted."
    for key in "${REQUIRED_KEYS[@]}"; do
      printf '%s: "%s"\n' "$key" "$(generate "$key")"
    done
    cat <<'EOF'

# Optional secrets, under the exact names Heimdall reads. Uncomment and fill in.
# GITHUB_CLIENTSECRET: ""
# GITLAB_SECRET: ""
# GOOGLE_CLIENTSECRET: ""
# OKTA_CLIENTSECRET: ""
# OIDC_CLIENT_SECRET: ""
# LDAP_PASSWORD: ""
# DATABASE_SSL_CA: |
#   -----BEGIN CERTIFICATE-----
#   ...
#   -----END CERTIFICATE-----
EOF
  } > "$tmp"
fi
chmod 600 -- "$tmp"
mv -f -- "$tmp" "$output"
trap - EXIT
echo "wrote $output (mode 600): generated ${added[*]}"
