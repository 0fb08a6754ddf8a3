#!/bin/sh
# Adds what the sandbox needs on top of the packages: the agent's user and home, and the
# evaluator's private directory, which only root may enter.
set -eu
groupadd --gid 1000 agent
useradd --uid 1000 --gid 1000 --create-home --home-dir /home/agent --shell /bin/bash agent
install -d -o agent -g agent -m 0755 /home/agent/workspace
install -d -o root -g root -m 0700 /var/lib/researchgym
# scikit-learn ships the diabetes and digits sets that two built-in tasks split into train,
# validation and a hidden test set: with a copy in the image, the agent could look up the
# hidden labels. The tasks bring their own splits.
rm -f /usr/lib/python3/dist-packages/sklearn/datasets/data/diabetes_data_raw.csv.gz \
      /usr/lib/python3/dist-packages/sklearn/datasets/data/diabetes_target.csv.gz \
      /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
