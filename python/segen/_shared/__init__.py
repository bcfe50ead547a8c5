"""Private helpers shared by segen's modules: argument validation and the sample images of the demo."""
