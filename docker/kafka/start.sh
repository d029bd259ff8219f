#!/bin/bash
# The compose deployment's Kafka, on the official image: the local stack's own server.properties template
# (mounted), the pipeline's SASL/SCRAM user added when the storage is first formatted, then the broker.
# One broker by default; the cluster file names each of its brokers and the quorum (KAFKA_NODE_ID,
# KAFKA_CONTROLLER_QUORUM_VOTERS, KAFKA_CONTROLLER_HOST, KAFKA_ADVERTISED_HOST, replication factor, min ISR).
# `start.sh --print` prints the broker's configuration instead of starting it (what tests/deploy reads).
set -euo pipefail
: "${KAFKA_CLUSTER_ID:?set it in docker/.env}" "${JOBPULSE_KAFKA_USER:?}" "${JOBPULSE_KAFKA_PASSWORD:?}"
case "$JOBPULSE_KAFKA_PASSWORD" in
  change-me*) echo "start.sh: JOBPULSE_KAFKA_PASSWORD is still the example's placeholder" >&2; exit 1 ;;
  *'"'* | *'\'*) echo "start.sh: JOBPULSE_KAFKA_PASSWORD may hold neither \" nor \\" >&2; exit 1 ;;
esac
if [[ ! "$JOBPULSE_KAFKA_USER" =~ ^[A-Za-z0-9_.-]+$ ]]; then
  echo "start.sh: JOBPULSE_KAFKA_USER must be a plain name" >&2; exit 1
fi

conf=/tmp/jobpulse-kafka
mkdir -p "$conf"
umask 077  # the files hold the password
password=${JOBPULSE_KAFKA_PASSWORD//&/\\&}  # as a sed replacement
password=${password//|/\\|}
template=${KAFKA_PROPERTIES_TEMPLATE:-/opt/jobpulse/kafka.properties}
render() {
  sed -e "s|\$node_id|${KAFKA_NODE_ID:-1}|g" \
      -e "s|\$controller_voters|${KAFKA_CONTROLLER_QUORUM_VOTERS:-1@127.0.0.1:9093}|g" \
      -e "s|\$controller_host|${KAFKA_CONTROLLER_HOST:-127.0.0.1}|g" \
      -e "s|\$replication_factor|${KAFKA_REPLICATION_FACTOR:-1}|g" \
      -e "s|\$min_insync_replicas|${KAFKA_MIN_INSYNC_REPLICAS:-1}|g" \
      -e "s|\$controller_port|9093|g" -e "s|\$advertised_host|${KAFKA_ADVERTISED_HOST:-kafka}|g" \
      -e "s|\$host|0.0.0.0|g" -e "s|\$port|9092|g" -e "s|\$data_dir|/var/lib/kafka/data|g" \
      -e "s|\$sasl_user|$JOBPULSE_KAFKA_USER|g" -e "s|\$sasl_password|$password|g" "$template"
}
if [[ "${1-}" == "--print" ]]; then
  render
  exit 0
fi
render > "$conf/server.properties"
cat > "$conf/client.properties" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$JOBPULSE_KAFKA_USER" password="$JOBPULSE_KAFKA_PASSWORD";
PROPERTIES

/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t "$KAFKA_CLUSTER_ID" -c "$conf/server.properties" \
  --add-scram "SCRAM-SHA-512=[name=$JOBPULSE_KAFKA_USER,password=\"$JOBPULSE_KAFKA_PASSWORD\"]"
exec /opt/kafka/bin/kafka-server-start.sh "$conf/server.properties"
