"""Feedback and complaints (phản ánh, kiến nghị): categories, routing, SLA deadlines, sweeps, reports.

The conversations live in `bot.conversations.feedback` (residents) and `bot.conversations.tickets_staff`
(staff); the repository in `storage.tickets`. See docs/feedback.md.
"""
