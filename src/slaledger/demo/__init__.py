"""Bundled example data: a seeded month of probes and events for each example contract."""

from slaledger.demo.events_yaml import events_yaml
from slaledger.demo.scenario import DemoData, demo_month

__all__ = ["DemoData", "demo_month", "events_yaml"]
