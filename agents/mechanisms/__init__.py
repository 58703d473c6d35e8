"""Every community mechanism in one place: EV reserve, DR, the campus cases."""
