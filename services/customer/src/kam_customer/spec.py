"""The customer service's self-description (entry point `kam.services: customer`)."""

from kam_platform.service import ServiceSpec

SPEC = ServiceSpec(
    name="customer",
    app="kam_customer.main:create_app",
    routes=("/tmf-api/customerManagement", "/tmf-api/party", "/api/v1/customer"),
    migrations="kam_customer:migrations",
    seed="kam_customer.seed:seed",
    order=20,
    publishes=("customer", "organization", "contact", "assignment", "designation", "designation_response"),
    applies=("customer", "organization", "contact", "assignment", "designation", "designation_response"),
)
