"""Mutations: fixes proposed as byte-exact edits (and, later, as reviewable git commits)."""
