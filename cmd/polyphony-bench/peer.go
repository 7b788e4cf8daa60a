package main

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// peerHub is the minimal rooms hub that B1 and B2 compare Polyphony with: the shape of
// gorilla/websocket's chat example, one goroutine per room owning its members, a bounded
// send buffer per connection, one reader and one writer per connection. It keeps no
// history, checks nothing and stores nothing.
type peerHub struct {
	upgrader websocket.Upgrader
	quit     chan struct{}
	wg       sync.WaitGroup
	joined   atomic.Int64 // connections registered with a room, for readiness

	mu    sync.Mutex
	rooms map[string]*peerRoom
}

type peerRoom struct {
	register   chan *peerClient
	unregister chan *peerClient
	broadcast  chan []byte
	done       chan struct{}
}

type peerClient struct {
	room *peerRoom
	conn *websocket.Conn
	send chan []byte
}

const (
	peerWriteWait  = 10 * time.Second
	peerPongWait   = 60 * time.Second
	peerPingPeriod = peerPongWait * 9 / 10
	peerMaxMessage = 4096
	peerSendBuffer = 256
)

func newPeerHub() *peerHub {
	return &peerHub{upgrader: websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024},
		quit: make(chan struct{}), rooms: map[string]*peerRoom{}}
}

func (h *peerHub) room(id string) *peerRoom {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.rooms[id]; ok {
		return r
	}
	r := &peerRoom{register: make(chan *peerClient), unregister: make(chan *peerClient),
		broadcast: make(chan []byte), done: make(chan struct{})}
	h.rooms[id] = r
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.run(r)
	}()
	return r
}

// run owns the room's members until the hub stops; only it closes a client's send channel.
func (h *peerHub) run(r *peerRoom) {
	defer close(r.done)
	clients := map[*peerClient]bool{}
	for {
		select {
		case c := <-r.register:
			clients[c] = true
			h.joined.Add(1)
		case c := <-r.unregister:
			if clients[c] {
				delete(clients, c)
				close(c.send)
				h.joined.Add(-1)
			}
		case msg := <-r.broadcast:
			for c := range clients {
				select {
				case c.send <- msg:
				default:
					delete(clients, c)
					close(c.send)
					h.joined.Add(-1)
				}
			}
		case <-h.quit:
			for c := range clients {
				close(c.send)
			}
			return
		}
	}
}

func (h *peerHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &peerClient{room: h.room(r.URL.Query().Get("room")), conn: conn, send: make(chan []byte, peerSendBuffer)}
	select {
	case c.room.register <- c:
	case <-c.room.done:
		conn.Close()
		return
	}
	go c.writePump()
	go c.readPump()
}

func (c *peerClient) readPump() {
	defer func() {
		select {
		case c.room.unregister <- c:
		case <-c.room.done:
		}
		c.conn.Close()
	}()
	c.conn.SetReadLimit(peerMaxMessage)
	c.conn.SetReadDeadline(time.Now().Add(peerPongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(peerPongWait)) })
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		select {
		case c.room.broadcast <- msg:
		case <-c.room.done:
			return
		}
	}
}

func (c *peerClient) writePump() {
	ticker := time.NewTicker(peerPingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(peerWriteWait))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(peerWriteWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// shutdown stops every room; their members' writers then close the connections.
func (h *peerHub) shutdown() {
	close(h.quit)
	h.wg.Wait()
}
