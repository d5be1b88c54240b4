"""Alignment: what each project contributes to the business's strategic objectives,
0 (nothing) to 3 (it is what the objective needs), the basis of its priority."""
