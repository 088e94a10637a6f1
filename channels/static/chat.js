// Chat page logic for both pages: <body data-mode="web"> (customer) and "rep".
// Bot text is always inserted with textContent, never innerHTML, so markup in a message
// shows as text instead of running.
"use strict";

(function () {
  const MODE = document.body.dataset.mode;
  const UNAVAILABLE = "The assistant is unavailable right now, please try again shortly.";
  const TOKEN_KEY = "crm.rep.token";
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const composer = $("composer");
  const textBox = $("text");
  const sendButton = $("send");
  const statusBadge = $("status");

  // A random, unguessable session id: it is the only key to an anonymous conversation.
  // getRandomValues works on plain http too, unlike crypto.randomUUID.
  function newSessionId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The customer's session survives reloads and new tabs (localStorage), so an agent's
  // replies that arrived meanwhile can be shown; a rep's ends with the tab, like the token.
  const sessionStore = MODE === "web" ? localStorage : sessionStorage;

  function sessionId() {
    const key = "crm." + MODE + ".session";
    let id = sessionStore.getItem(key);
    if (!id) {
      id = newSessionId();
      sessionStore.setItem(key, id);
    }
    return id;
  }

  function setStatus(text, kind) {
    statusBadge.textContent = text;
    statusBadge.className = "status" + (kind ? " " + kind : "");
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addBubble(kind, text) {
    const bubble = document.createElement("div");
    bubble.className = "msg " + kind;
    bubble.textContent = text;
    log.appendChild(bubble);
    scrollDown();
    return bubble;
  }

  // Pushed lines carry their stored id; a line that arrives twice (push, then resume) shows once.
  const shownIds = new Set();

  function addBotMessage(message) {
    if (message.id != null) {
      if (shownIds.has(message.id)) return;
      shownIds.add(message.id);
    }
    const isAgent = message.sender === "agent";
    const bubble = addBubble(isAgent ? "agent" : "bot", "");
    if (isAgent) {
      const name = document.createElement("div");
      name.className = "agent-name";
      name.textContent = message.agent_name || "Support";
      bubble.appendChild(name);
    }
    bubble.appendChild(document.createTextNode(message.text || ""));
    if (!message.buttons || message.buttons.length === 0) return;
    const row = document.createElement("div");
    row.className = "buttons";
    for (const button of message.buttons) {
      const el = document.createElement("button");
      el.type = "button";
      el.textContent = button.title;
      el.addEventListener("click", () => {
        row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
        send(button.payload, button.title);
      });
      row.appendChild(el);
    }
    bubble.appendChild(row);
    scrollDown();
  }

  let typing = null;
  function setBusy(busy) {
    sendButton.disabled = busy;
    if (busy && !typing) {
      typing = addBubble("bot typing", "…");
    } else if (!busy && typing) {
      typing.remove();
      typing = null;
    }
  }

  let inHandoff = false;

  function showReply(body) {
    setBusy(false);
    (body.messages || []).forEach(addBotMessage);
    inHandoff = Boolean(body.handoff);
    if (inHandoff && (body.messages || []).length === 0) {
      addBubble("note", body.handoff === "claimed" ? "Sent to the support agent." : "Sent to the support team; a person will answer here.");
    }
  }

  // Lines nobody asked for: an agent's replies, the hand-back and the rating question.
  function showPush(body) {
    (body.messages || []).forEach(addBotMessage);
  }

  function showError(detail) {
    setBusy(false);
    addBubble("notice", detail || UNAVAILABLE);
  }

  // ---- transport: WebSocket for customers, with POST as the fallback ----
  let socket = null;
  let socketReady = false;
  let waitingOnSocket = false;

  function openSocket() {
    if (MODE !== "web" || !("WebSocket" in window)) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(
        scheme + location.host + "/v1/chat/web/ws?session_id=" + encodeURIComponent(sessionId())
      );
    } catch (err) {
      socket = null;
      return;
    }
    socket.addEventListener("open", () => {
      socketReady = true;
      reconnectDelay = 1000;
      setStatus("online", "ok");
    });
    socket.addEventListener("message", (event) => {
      let body;
      try {
        body = JSON.parse(event.data);
      } catch (err) {
        showError(UNAVAILABLE);
        return;
      }
      if (body.type === "push") {
        showPush(body);
        return;
      }
      waitingOnSocket = false;
      if (body.type === "error") {
        showError(body.detail);
      } else {
        showReply(body);
      }
    });
    socket.addEventListener("close", () => {
      socketReady = false;
      socket = null;
      setStatus("online (fallback)", "ok");
      if (waitingOnSocket) {
        waitingOnSocket = false;
        showError("The connection dropped before the answer arrived. Please send your message again.");
      }
      // Come back for the agent's replies; meanwhile POST works and pending lines are polled.
      setTimeout(openSocket, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 30000);
    });
  }

  let reconnectDelay = 1000;

  // Without a socket, fetch what waits (agent replies) now and then while a person has the chat.
  async function fetchPending() {
    try {
      const response = await fetch("/v1/chat/web/pending?session_id=" + encodeURIComponent(sessionId()));
      if (response.ok) showPush(await response.json());
    } catch (err) {
      // offline: the next poll or the socket will bring them
    }
  }

  function pollWhileInHandoff() {
    setInterval(() => {
      if (inHandoff && !socketReady) fetchPending();
    }, 5000);
  }

  function authHeaders() {
    const headers = { "Content-Type": "application/json" };
    if (MODE === "rep") headers.Authorization = "Bearer " + sessionStorage.getItem(TOKEN_KEY);
    return headers;
  }

  async function postTurn(text) {
    const url = MODE === "rep" ? "/v1/chat/rep" : "/v1/chat/web";
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: authHeaders(),
        body: JSON.stringify({ session_id: sessionId(), text: text }),
      });
    } catch (err) {
      showError("Cannot reach the server. Check your connection and try again.");
      return;
    }
    let body = {};
    try {
      body = await response.json();
    } catch (err) {
      body = {};
    }
    if (response.ok) {
      showReply(body);
    } else if (response.status === 401 && MODE === "rep") {
      signOut("Your token was not accepted. Please sign in again.");
    } else {
      showError(typeof body.detail === "string" ? body.detail : UNAVAILABLE);
    }
  }

  function send(text, shownAs) {
    const trimmed = text.trim();
    if (!trimmed) return;
    addBubble("user", shownAs || trimmed);
    setBusy(true);
    if (socketReady) {
      waitingOnSocket = true;
      socket.send(JSON.stringify({ session_id: sessionId(), text: trimmed }));
    } else {
      postTurn(trimmed);
    }
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sendButton.disabled) return;
    const text = textBox.value;
    textBox.value = "";
    send(text);
    textBox.focus();
  });

  // Enter sends, Shift+Enter starts a new line.
  textBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  // ---- rep sign-in: the token lives in sessionStorage, so it ends with the tab ----
  // The rest of the console (console.js) follows the "crm:signed-in" / "crm:signed-out"
  // events, and asks for a sign-out with "crm:token-rejected" when the API refuses the token.
  function showChat(signedIn, me) {
    $("signin").hidden = signedIn;
    log.hidden = !signedIn;
    composer.hidden = !signedIn;
    $("signout").hidden = !signedIn;
    setStatus(signedIn ? "signed in" : "signed out", signedIn ? "ok" : "");
    document.dispatchEvent(new CustomEvent(signedIn ? "crm:signed-in" : "crm:signed-out", { detail: me || null }));
    if (signedIn) textBox.focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    setBusy(false);
    log.replaceChildren();
    showChat(false);
    const error = $("signin-error");
    error.textContent = message || "";
    error.hidden = !message;
  }

  // Check a pasted token before showing the chat, so a typo fails at once, not on send.
  async function checkToken(token) {
    let response;
    try {
      response = await fetch("/v1/me", { headers: { Authorization: "Bearer " + token } });
    } catch (err) {
      return { error: "Cannot reach the server. Check your connection and try again." };
    }
    if (response.status === 401) return { error: "That token was not accepted." };
    if (!response.ok) return { error: "Sign-in failed; please try again shortly." };
    const me = await response.json();
    if (me.role === "customer") return { error: "This page is for staff; customers use the help chat." };
    return { me: me };
  }

  function showSignedIn(me) {
    showChat(true, me);
    setStatus(me.email + " · " + me.role.replace("_", " "), "ok");
  }

  function initRep() {
    $("signin").addEventListener("submit", async (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      if (!token) return;
      const result = await checkToken(token);
      const error = $("signin-error");
      if (result.error) {
        error.textContent = result.error;
        error.hidden = false;
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token").value = "";
      error.hidden = true;
      showSignedIn(result.me);
    });
    $("signout").addEventListener("click", () => signOut());
    document.addEventListener("crm:token-rejected", () => {
      signOut("Your token was not accepted. Please sign in again.");
    });
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (!saved) {
      showChat(false);
      return;
    }
    checkToken(saved).then((result) => {
      if (result.me) showSignedIn(result.me);
      else signOut(result.error);
    });
  }

  if (MODE === "rep") {
    initRep();
  } else {
    setStatus("online", "ok");
    openSocket();
    if (!("WebSocket" in window)) fetchPending();
    pollWhileInHandoff();
  }
})();
