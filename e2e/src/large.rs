//! The large-answer fixture of `make bench-gateway`: three small federation subgraphs whose
//! answers nest lists deeply, so that one client query makes answers of about 100 KB
//! (products → reviews → authors → their reviews → those reviews' products).
//!
//! - `products` owns `Product` (name, price, description) and the root list `products(first:)`;
//! - `reviews` owns `Review` and adds `Product.reviews` and `User.reviews`;
//! - `people` owns `User` (name, username, bio).
//!
//! The data is generated, deterministic and held in memory: [`PRODUCTS`] products with
//! [`REVIEWS_PER_PRODUCT`] reviews each, written in turn by [`USERS`] users. The subgraphs do no
//! I/O; the benchmark puts the memoising subgraphs in front of them anyway, so only the gateways'
//! work is measured. The benchmark composes their supergraph when it starts
//! (`promptsales-bench-subgraphs --compose-input | node supergraph/compose.mjs`), so it always
//! matches this code.

use async_graphql::{ComplexObject, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};

/// How many products there are.
pub const PRODUCTS: usize = 200;
/// How many reviews each product has.
pub const REVIEWS_PER_PRODUCT: usize = 5;
/// How many users write the reviews (each writes `PRODUCTS * REVIEWS_PER_PRODUCT / USERS`).
pub const USERS: usize = 200;

/// The subgraphs, in the order the benchmark gives them ports.
pub const NAMES: [&str; 3] = ["products", "reviews", "people"];

fn product_index(id: &str) -> Option<usize> {
    id.strip_prefix('p')?.parse().ok().filter(|i| *i < PRODUCTS)
}

fn user_index(id: &str) -> Option<usize> {
    id.strip_prefix('u')?.parse().ok().filter(|i| *i < USERS)
}

/// The `k`th review of product `p`: its id and its author's index.
fn review(p: usize, k: usize) -> Review {
    let n = p * REVIEWS_PER_PRODUCT + k;
    Review {
        id: ID(format!("r{n}")),
        body: format!("Review {n}: solid build, arrived on time, would buy again ({k} of {REVIEWS_PER_PRODUCT})."),
        rating: (n % 5) as i32 + 1,
        product: p,
        author: n % USERS,
    }
}

fn review_by_id(id: &str) -> Option<Review> {
    let n: usize = id.strip_prefix('r')?.parse().ok()?;
    (n < PRODUCTS * REVIEWS_PER_PRODUCT).then(|| review(n / REVIEWS_PER_PRODUCT, n % REVIEWS_PER_PRODUCT))
}

pub mod products {
    use super::*;

    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        pub name: String,
        pub price: f64,
        pub description: String,
    }

    fn product(i: usize) -> Product {
        Product {
            id: ID(format!("p{i}")),
            name: format!("Product {i}"),
            price: 10.0 + (i % 90) as f64 + 0.99,
            description: format!("Product {i}, a sturdy thing in oak and steel"),
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// The first `first` products.
        async fn products(&self, #[graphql(default = 20)] first: i32) -> Vec<Product> {
            (0..usize::try_from(first).unwrap_or(0).min(PRODUCTS))
                .map(product)
                .collect()
        }

        #[graphql(entity)]
        async fn find_product_by_id(&self, id: ID) -> Option<Product> {
            product_index(&id).map(product)
        }
    }

    pub fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

/// A review as the `reviews` subgraph serves it.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Review {
    pub id: ID,
    pub body: String,
    pub rating: i32,
    #[graphql(skip)]
    product: usize,
    #[graphql(skip)]
    author: usize,
}

#[ComplexObject]
impl Review {
    async fn author(&self) -> reviews::User {
        reviews::User {
            id: ID(format!("u{}", self.author)),
        }
    }

    async fn product(&self) -> reviews::Product {
        reviews::Product {
            id: ID(format!("p{}", self.product)),
        }
    }
}

pub mod reviews {
    use super::*;

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct Product {
        pub id: ID,
    }

    #[ComplexObject]
    impl Product {
        async fn reviews(&self) -> Vec<Review> {
            product_index(&self.id)
                .map(|p| (0..REVIEWS_PER_PRODUCT).map(|k| review(p, k)).collect())
                .unwrap_or_default()
        }
    }

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct User {
        pub id: ID,
    }

    #[ComplexObject]
    impl User {
        async fn reviews(&self) -> Vec<Review> {
            let Some(u) = user_index(&self.id) else {
                return Vec::new();
            };
            (u..PRODUCTS * REVIEWS_PER_PRODUCT)
                .step_by(USERS)
                .map(|n| review(n / REVIEWS_PER_PRODUCT, n % REVIEWS_PER_PRODUCT))
                .collect()
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// One review by id.
        async fn review(&self, id: ID) -> Option<Review> {
            review_by_id(&id)
        }

        #[graphql(entity)]
        async fn find_product_by_id(&self, id: ID) -> Product {
            Product { id }
        }

        #[graphql(entity)]
        async fn find_user_by_id(&self, id: ID) -> User {
            User { id }
        }

        #[graphql(entity)]
        async fn find_review_by_id(&self, id: ID) -> Option<Review> {
            review_by_id(&id)
        }
    }

    pub fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

pub mod people {
    use super::*;

    #[derive(SimpleObject)]
    pub struct User {
        pub id: ID,
        pub name: String,
        pub username: String,
        pub bio: String,
    }

    fn user(i: usize) -> User {
        User {
            id: ID(format!("u{i}")),
            name: format!("User Number {i}"),
            username: format!("user{i}"),
            bio: format!("Reviewer {i}: buys furniture, writes about it"),
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn find_user_by_id(&self, id: ID) -> Option<User> {
            user_index(&id).map(user)
        }
    }

    pub fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

/// A subgraph's federation SDL.
pub fn sdl(name: &str) -> Option<String> {
    let options = async_graphql::SDLExportOptions::new().federation();
    Some(match name {
        "products" => products::schema().sdl_with_options(options),
        "reviews" => reviews::schema().sdl_with_options(options),
        "people" => people::schema().sdl_with_options(options),
        _ => return None,
    })
}

/// A subgraph served over HTTP at `/graphql` (and `/readyz`).
pub fn app(name: &str) -> Option<axum::Router> {
    use async_graphql_axum::GraphQL;
    let graphql = match name {
        "products" => axum::routing::post_service(GraphQL::new(products::schema())),
        "reviews" => axum::routing::post_service(GraphQL::new(reviews::schema())),
        "people" => axum::routing::post_service(GraphQL::new(people::schema())),
        _ => return None,
    };
    Some(
        axum::Router::new()
            .route("/graphql", graphql)
            .route("/readyz", axum::routing::get(|| async { "ok" })),
    )
}
