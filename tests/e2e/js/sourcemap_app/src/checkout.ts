// A little TypeScript shop, bundled and minified by esbuild in tests/e2e/test_sourcemaps_e2e.py.
export interface Cart {
  items: number[];
  currency: string;
}

export function totalOf(cart: Cart): number {
  return cart.items.reduce((sum, price) => sum + price, 0);
}

export function submitOrder(cart: Cart): never {
  const total = totalOf(cart);
  throw new RangeError(`order total ${total} ${cart.currency} exceeds the limit`);
}
