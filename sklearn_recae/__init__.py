"""sklearn-recae: scikit-learn compatible autoencoder and metric-learning recommenders."""

__version__ = "0.1.0"
