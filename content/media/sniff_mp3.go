package media

import "bytes"

const mimeMP3 = "audio/mpeg"

// mp3MinFrames is how many consecutive frame headers sniffMP3 wants to see
// when the head holds that many, so that two bytes that happen to look
// like a frame sync are not enough.
const mp3MinFrames = 3

// sniffMP3 checks an MP3 head: an optional ID3v2 tag, then MPEG audio
// frames whose headers follow one another. When the tag is longer than
// the head, the frame header after it is checked by a probe as the upload
// streams past.
func sniffMP3(head []byte, whole bool) (detection, error) {
	off := 0
	if bytes.HasPrefix(head, []byte("ID3")) {
		n, err := id3Length(head)
		if err != nil {
			return detection{}, err
		}
		off = n
	}
	d := detection{format: formatMP3}
	if off+4 > len(head) {
		if whole {
			return detection{}, malformed(mimeMP3, "an ID3 tag without audio")
		}
		d.Probe = &probe{at: int64(off), want: 4, check: checkFrameHeader}
		return d, nil
	}
	frames := 0
	for off+4 <= len(head) && frames < mp3MinFrames {
		n := mp3FrameLen(head[off:])
		if n == 0 {
			break
		}
		frames++
		off += n
	}
	switch {
	case frames == 0:
		return detection{}, malformed(mimeMP3, "no MPEG audio frame where one should start")
	case frames < mp3MinFrames && off+4 <= len(head):
		return detection{}, malformed(mimeMP3, "MPEG audio frame %d does not follow the one before", frames+1)
	}
	return d, nil
}

func checkFrameHeader(b []byte) error {
	if mp3FrameLen(b) == 0 {
		return malformed(mimeMP3, "no MPEG audio frame after the ID3 tag")
	}
	return nil
}

// id3Length returns the length of the ID3v2 tag at the start of head.
func id3Length(head []byte) (int, error) {
	if len(head) < 10 {
		return 0, malformed(mimeMP3, "ID3 tag header cut short")
	}
	version, flags := head[3], head[5]
	if version < 2 || version > 4 || head[4] == 0xff {
		return 0, malformed(mimeMP3, "ID3 version 2.%d.%d", version, head[4])
	}
	n := 0
	for _, c := range head[6:10] {
		if c&0x80 != 0 {
			return 0, malformed(mimeMP3, "ID3 tag size not synchsafe")
		}
		n = n<<7 | int(c)
	}
	n += 10
	if version == 4 && flags&0x10 != 0 {
		n += 10 // footer
	}
	return n, nil
}

// Bit rates in kbit/s by [MPEG-1 or not][layer I, II, III][index].
var mp3Bitrates = [2][3][16]int{
	{
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	},
	{
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
	},
}

// Sample rates in Hz by [version bits][index]; version 1 is reserved.
var mp3Rates = [4][3]int{
	{11025, 12000, 8000},  // MPEG-2.5
	{},                    // reserved
	{22050, 24000, 16000}, // MPEG-2
	{44100, 48000, 32000}, // MPEG-1
}

func isFrameSync(b []byte) bool { return mp3FrameLen(b) > 0 }

// mp3FrameLen returns the length of the MPEG audio frame whose header
// starts b, or 0 if b does not start with a valid frame header (free
// format frames, whose length is not in the header, count as invalid).
func mp3FrameLen(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return 0
	}
	version := b[1] >> 3 & 3
	layer := b[1] >> 1 & 3 // 3 = layer I, 2 = II, 1 = III
	bitrateIdx, rateIdx := b[2]>>4, b[2]>>2&3
	padding := int(b[2] >> 1 & 1)
	if version == 1 || layer == 0 || rateIdx == 3 || b[3]&3 == 2 {
		return 0
	}
	table := 0 // MPEG-1
	if version != 3 {
		table = 1 // MPEG-2 and 2.5
	}
	bitrate := mp3Bitrates[table][3-layer][bitrateIdx] * 1000
	rate := mp3Rates[version][rateIdx]
	if bitrate == 0 {
		return 0
	}
	switch {
	case layer == 3:
		return (12*bitrate/rate + padding) * 4
	case layer == 1 && version != 3:
		return 72*bitrate/rate + padding
	}
	return 144*bitrate/rate + padding
}
