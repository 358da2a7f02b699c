-- The product pictures are SVG files served by the storefront; catalogs seeded before point at .jpg.
UPDATE products
SET picture_url = REPLACE(picture_url, '.jpg', '.svg')
WHERE picture_url LIKE '/static/img/products/%.jpg';
