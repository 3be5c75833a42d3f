"""Assignment by rule (派单规则): queues per team and skill, round robin or least loaded."""
