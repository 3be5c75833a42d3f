"""kam-service: key-account service (大客户服务, F6) — trouble tickets with SLA by grade, escalation and
the closed loop."""
