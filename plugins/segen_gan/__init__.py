"""segen-gan: DCGAN and conditional GAN generators of handwritten digits (work in progress)."""
