"""Contact schemes (联系方案): a customer's hotlines and the layer-to-layer map to telecom offices."""
