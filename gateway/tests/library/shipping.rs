//! `shipping`: what sending a book costs, a tenth of its price, in dollars and in euros. Both
//! fields `@requires` the same external field, `Book.priceIn`, under different arguments, so the
//! planner fetches it twice under an alias and names that alias in each `requires`.

use async_graphql::{ComplexObject, EmptyMutation, EmptySubscription, Enum, ID, Object, Schema, SimpleObject};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Currency {
    Usd,
    Eur,
    #[graphql(inaccessible)]
    Internal,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Book {
    pub id: ID,
    /// `priceIn` of the representation: the one currency this entity fetch was sent.
    #[graphql(skip)]
    pub price: Option<f64>,
}

fn tenth(price: Option<f64>) -> async_graphql::Result<f64> {
    let price = price.ok_or("priceIn is required")?;
    Ok((price * 10.0).round() / 100.0)
}

#[ComplexObject]
impl Book {
    #[graphql(external)]
    async fn price_in(&self, currency: Currency) -> f64 {
        let _ = currency;
        self.price.unwrap_or_default()
    }

    #[graphql(requires = "priceIn(currency: USD)")]
    async fn shipping_usd(&self) -> async_graphql::Result<f64> {
        tenth(self.price)
    }

    #[graphql(requires = "priceIn(currency: EUR)")]
    async fn shipping_eur(&self) -> async_graphql::Result<f64> {
        tenth(self.price)
    }
}

pub struct Query;

#[Object]
impl Query {
    #[graphql(entity)]
    async fn find_book_by_id(&self, #[graphql(key)] id: ID, price_in: Option<f64>) -> Book {
        Book { id, price: price_in }
    }
}

pub fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}
