"""The customer-service system (客服系统, 10000) adapter: KA_LIST_SYNC out, KA_LOOKUP in real time,
TICKET_CREATE / TICKET_UPDATE both ways, SURVEY_RESULT in; a durable outbound queue sent at least once
with idempotency keys, and the daily reconciliation (docs/adapters.md)."""
