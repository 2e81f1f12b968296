#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# Starts the gateway. The Supervisor has written /data/options.json; the hub validates it and
# keeps its own state (token, credential store, ledger) in /data.
set -e

bashio::log.info "Starting AI Provider Hub on port 8099"
exec python3 -m addon --options /data/options.json --data-dir /data --host 0.0.0.0 --port 8099
