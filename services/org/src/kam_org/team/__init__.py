"""Teams (团队管理, F12): industry-expert, service and support teams and their members."""
