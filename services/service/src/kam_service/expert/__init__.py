"""Expert service (专家服务): experts by domain and industry; requests, assignment, outcome document."""
