"""Incentive campaigns: offers chosen per user to reshape crowd flow within a budget, and what they paid."""
