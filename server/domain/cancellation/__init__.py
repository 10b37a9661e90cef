"""Cancellations and refunds: the policy and its arithmetic, cancelling seats of a booking,
shows a theater cancels (one or many), and sending refunds until they are through."""
