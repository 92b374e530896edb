"""``python -m autograd_scalar``: differentiate the seed's diamond example."""

from ._engine import Value


def main() -> int:
    """Print the value and gradients of o = ((x*y)*(y*z))**2 at x=3, y=2, z=1."""
    x, y, z = Value(3, "x"), Value(2, "y"), Value(1, "z")
    o = ((x * y) * (y * z)) ** 2
    o.backward()
    print(f"o = ((x*y)*(y*z))**2 = {o.data}")
    for v in (x, y, z):
        print(f"do/d{v.label} = {v.grad}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
