#!/bin/sh
# Adds what the sandbox needs on top of the packages: the agent's user and home, and the
# evaluator's private directory, which only root may enter.
set -eu
groupadd --gid 1000 agent
useradd --uid 1000 --gid 1000 --create-home --home-dir /home/agent --shell /bin/bash agent
install -d -o agent -g agent -m 0755 /home/agent/workspace
install -d -o root -g root -m 0700 /var/lib/researchgym
