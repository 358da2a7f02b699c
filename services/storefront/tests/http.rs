//! The real storefront server on port 0, in front of a gateway that is not there: its pages still
//! answer, with a message a person understands, and its admin port answers its probes.

use platform::{Shutdown, grpc_server::Listeners};
use tokio::net::TcpListener;

#[tokio::test]
async fn without_the_shop_the_page_says_so_and_the_probes_answer() {
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let config: storefront::Config =
        platform::config::from_env("storefront", &[("GATEWAY_URL".to_owned(), gateway)].into())
            .unwrap();
    let main = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (url, admin_url) = (
        format!("http://{}", main.local_addr().unwrap()),
        format!("http://{}", admin.local_addr().unwrap()),
    );
    let shutdown = Shutdown::new();
    let server = tokio::spawn(storefront::serve(
        Listeners {
            main,
            admin: Some(admin),
        },
        config,
        shutdown.clone(),
    ));

    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if client
            .get(format!("{admin_url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "storefront never became ready");
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("x-served-by"));
    let text = page.text().await.unwrap();
    assert!(text.contains("We cannot reach the shop"), "{text}");

    shutdown.trigger();
    server.await.unwrap().unwrap();
}
