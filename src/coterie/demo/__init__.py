"""The demo network: fictional partner companies, users and partnerships for a first look."""
