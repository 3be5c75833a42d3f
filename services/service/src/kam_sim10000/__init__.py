"""A simulator of the customer-service system (客服系统, 10000): a separate small program that KAM's
10000 adapter talks to, started by `kam up` (ServiceSpec.companions) and by the tests. It acknowledges
KAM's messages (with configurable latency, failure rate, lost acknowledgements and a "down" mode),
records what it received durably (so tests assert "nothing lost, nothing duplicated"), and places calls
(KA_LOOKUP) and opens tickets (TICKET_CREATE) at a configurable rate (docs/adapters.md)."""
