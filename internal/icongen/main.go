// Command icongen draws the web-app icons of the field app
// (templates/static/icon-192.png and icon-512.png) and the pages' favicon
// (icon-32.png): a white house with a signal dot on cdt's blue, kept inside
// the maskable safe zone.
//
//	go run ./internal/icongen
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"strconv"
)

func main() {
	for _, size := range []int{32, 192, 512} {
		if err := write(size); err != nil {
			log.Fatal(err)
		}
	}
}

func write(size int) error {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	blue := color.RGBA{0x0b, 0x5c, 0xab, 0xff}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	s := float64(size)
	// House: roof apex, eaves, walls, inside the central 60%.
	house := [][2]float64{{.50, .24}, {.78, .47}, {.70, .47}, {.70, .76}, {.30, .76}, {.30, .47}, {.22, .47}}
	door := [][2]float64{{.45, .60}, {.55, .60}, {.55, .76}, {.45, .76}}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			px, py := (float64(x)+.5)/s, (float64(y)+.5)/s
			c := blue
			if inside(house, px, py) && !inside(door, px, py) {
				c = white
			}
			if math.Hypot(px-.70, py-.28) < .055 { // the signal dot
				c = white
			}
			img.Set(x, y, c)
		}
	}
	f, err := os.Create("templates/static/icon-" + strconv.Itoa(size) + ".png")
	if err != nil {
		return err
	}
	defer f.Close()
	return png.Encode(f, img)
}

func inside(poly [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		xi, yi, xj, yj := poly[i][0], poly[i][1], poly[j][0], poly[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
