"""Staff (员工管理, F13): the people who log in, their org unit and roles."""
