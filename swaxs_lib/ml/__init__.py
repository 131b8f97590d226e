"""Shape and size prediction: the simulated database, features, models and their evaluation."""
