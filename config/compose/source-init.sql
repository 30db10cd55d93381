-- Demo data for docker-compose.yml: 1M accounts and a partitioned orders table.
CREATE TABLE public.accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance numeric(14,2), opened timestamptz);
INSERT INTO public.accounts SELECT g, 'owner ' || g, (g % 100000) / 7.0, now() - g * interval '1 minute'
  FROM generate_series(1, 1000000) g;
CREATE TABLE public.orders (id bigint NOT NULL, region text NOT NULL, amount numeric, PRIMARY KEY (id, region))
  PARTITION BY LIST (region);
CREATE TABLE public.orders_eu PARTITION OF public.orders FOR VALUES IN ('eu');
CREATE TABLE public.orders_rest PARTITION OF public.orders DEFAULT;
INSERT INTO public.orders SELECT g, (ARRAY['eu', 'us', 'apac'])[g % 3 + 1], g / 3.0 FROM generate_series(1, 300000) g;
