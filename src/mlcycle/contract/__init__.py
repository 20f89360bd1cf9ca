"""The contract: what ``mlcycle.yaml`` may say, and every rule about it that needs no other part of mlcycle.

This package is the bottom layer: it imports nothing of mlcycle but the exceptions. The
registries above it (algorithms, metrics, drift statistics, alert sinks) tell it their names
through :mod:`mlcycle.contract.vocabulary`.
"""
