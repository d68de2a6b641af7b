"""The inventory's own pages: an equipment's documents (documents), asking for training and
the managers' training queue (training). The pages that show bookings are in
reservations.web."""
