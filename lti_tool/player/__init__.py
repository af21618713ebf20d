"""The player: what an agent sees after launching a parcours, and the service behind it."""
