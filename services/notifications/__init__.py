"""Notifications service: the agents' emails and calendar invitations."""
