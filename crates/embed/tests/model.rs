//! The real model (fetched by scripts/dev-services.sh into .tools/models/): a missing model fails
//! these tests with the message that says how to get it.

use std::sync::OnceLock;

use promptsales_embed::{DIMENSIONS, Embedder, MAX_TOKENS, cosine, default_model_dir};

fn model() -> &'static Embedder {
    static MODEL: OnceLock<Embedder> = OnceLock::new();
    MODEL.get_or_init(|| Embedder::load(&default_model_dir()).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn should_make_unit_vectors_of_384_numbers() {
    let e = model().embed_one("A coffee cup.").expect("embedded");
    assert_eq!(e.vector.len(), DIMENSIONS);
    let norm = e.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    // [CLS] a coffee cup . [SEP] (lowercased by the tokenizer)
    assert_eq!(e.tokens, 6);
    assert!(model().id().starts_with("all-MiniLM-L6-v2-"));
}

#[test]
fn should_place_texts_of_the_same_meaning_closer_than_unrelated_ones() {
    let [query, near, far] = [
        "a hot cup of coffee",
        "an espresso mug with rising steam",
        "snowy mountain peaks under the sun",
    ];
    let v: Vec<Vec<f32>> = model()
        .embed(&[query, near, far])
        .expect("embedded")
        .into_iter()
        .map(|e| e.vector)
        .collect();
    let (s_near, s_far) = (cosine(&v[0], &v[1]), cosine(&v[0], &v[2]));
    assert!(s_near > s_far + 0.2, "near {s_near}, far {s_far}");
}

#[test]
fn should_embed_a_text_the_same_alone_and_in_a_padded_batch() {
    let short = "sunglasses";
    let long =
        "A pair of sunglasses faces the viewer with two wide lenses set in a black frame joined by a curved bridge.";
    let alone = model().embed_one(short).expect("alone");
    let batch = model().embed(&[long, short]).expect("batch");
    let drift = alone
        .vector
        .iter()
        .zip(&batch[1].vector)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(drift < 1e-4, "padding changed the embedding by {drift}");
    assert_eq!(alone.tokens, batch[1].tokens);
}

#[test]
fn should_cut_long_texts_at_the_models_limit_and_refuse_empty_ones() {
    let long = "coffee ".repeat(600);
    assert_eq!(model().embed_one(&long).expect("embedded").tokens, MAX_TOKENS);
    assert!(model().embed_one("   ").is_err());
}
