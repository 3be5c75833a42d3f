"""The service-quality board (服务质量): open tickets by grade, breaches, MTTR, satisfaction."""
