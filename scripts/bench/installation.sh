# Sourced by the import scripts: `installation DIR ROOT [EXTRA_TOML]` writes DIR/sohoa.toml for
# a fresh installation under DIR/data (SQLite index, file:// archive, the demo keys `sohoa
# init` writes), the policies of ROOT, and any further settings given, then runs `init`
# with $sohoa.
installation() {
  local dir=$1 root=$2 extra=${3:-}
  cat > "$dir/sohoa.toml" <<TOML
$extra
data_dir = "$dir/data"
index_url = "sqlite://$dir/data/sohoa.db"
archive_url = "file://$dir/data/archive"
policies_dir = "$root/policies"
tlog_key = "$dir/data/tlog.key"
seal_key = "$dir/data/pki/seal.key"
seal_cert = "$dir/data/pki/seal.pem"
seals_dir = "$dir/data/pki/seals"
TOML
  "$sohoa" --config "$dir/sohoa.toml" init > /dev/null
}
