"""segen-vae: variational autoencoder generators of handwritten digits (work in progress)."""
