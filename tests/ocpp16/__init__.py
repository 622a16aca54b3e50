"""Tests of csms.ocpp16: messages, codec and schema validation."""
